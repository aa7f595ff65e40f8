import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useCallback, useRef, useState } from "react";

import { deleteFirmware } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { ChosenFile } from "../bindings/ChosenFile";
import type { FirmwareEntry } from "../bindings/FirmwareEntry";
import { AddFirmwareDialog } from "../components/AddFirmwareDialog";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorMessage } from "../components/ErrorMessage";
import { FirmwareTable } from "../components/FirmwareTable";
import { PublishDialog } from "../components/PublishDialog";
import { useFileDrop } from "../hooks/useFileDrop";
import { useFirmwareList } from "../hooks/useLibrary";
import { t } from "../i18n";
import { queryKeys } from "../queryKeys";

type Dialog =
  | { kind: "add"; file: ChosenFile | null; drop: number }
  | { kind: "publish"; entry: FirmwareEntry }
  | { kind: "delete"; entry: FirmwareEntry };

/** The firmware library: add (file dialog or drop), publish to a cloud, delete when no campaign uses it. */
export function FirmwareView() {
  const queryClient = useQueryClient();
  const list = useFirmwareList();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  // Each drop opens a fresh dialog with its file, even over one already open.
  const drops = useRef(0);
  const onDrop = useCallback((file: ChosenFile) => {
    drops.current += 1;
    setDialog({ kind: "add", file, drop: drops.current });
  }, []);
  const dragging = useFileDrop(onDrop);
  const remove = useMutation<FirmwareEntry, ApiError, number>({
    mutationFn: deleteFirmware,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.library }),
    onSettled: () => setDialog(null),
  });

  return (
    <div className="view firmware-view">
      <div className="view-head">
        <h2 className="view-title">{t("library.title")}</h2>
        <button type="button" className="button primary" onClick={() => setDialog({ kind: "add", file: null, drop: 0 })}>
          {t("library.add")}
        </button>
      </div>
      {dragging ? (
        <p className="drop-hint" role="status">
          {t("library.dropHint")}
        </p>
      ) : null}
      {remove.error ? (
        <div>
          {remove.error.code === "conflict" ? <p className="error-lead">{t("library.deleteRefused")}</p> : null}
          <ErrorMessage error={remove.error} />
        </div>
      ) : null}
      {list.isPending ? <p role="status">{t("library.loading")}</p> : null}
      {list.error && !list.data ? <ErrorMessage error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.data && list.data.length === 0 ? <p className="empty-note">{t("library.empty")}</p> : null}
      {list.data && list.data.length > 0 ? (
        <FirmwareTable
          entries={list.data}
          onPublish={(entry) => setDialog({ kind: "publish", entry })}
          onDelete={(entry) => {
            remove.reset();
            setDialog({ kind: "delete", entry });
          }}
        />
      ) : null}
      {dialog?.kind === "add" ? (
        <AddFirmwareDialog key={dialog.drop} initialFile={dialog.file} onClose={() => setDialog(null)} />
      ) : null}
      {dialog?.kind === "publish" ? <PublishDialog firmware={dialog.entry} onClose={() => setDialog(null)} /> : null}
      {dialog?.kind === "delete" ? (
        <ConfirmDialog
          title={t("library.deleteTitle", { file: dialog.entry.fileName, version: dialog.entry.version })}
          body={t("library.deleteBody")}
          confirmLabel={t("library.delete")}
          busy={remove.isPending}
          onConfirm={() => remove.mutate(dialog.entry.id)}
          onCancel={() => setDialog(null)}
        />
      ) : null}
    </div>
  );
}
