import { useMutation, useQueryClient } from "@tanstack/react-query";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { useEffect, useState } from "react";

import { deleteFirmware } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { FirmwareEntry } from "../bindings/FirmwareEntry";
import { AddFirmwareDialog } from "../components/AddFirmwareDialog";
import { CloudBadge } from "../components/CloudBadge";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorMessage } from "../components/ErrorMessage";
import { PublishDialog } from "../components/PublishDialog";
import { useFirmwareList } from "../hooks/useLibrary";
import { t } from "../i18n";
import { formatDateTime, formatSize } from "../lib/format";
import { queryKeys } from "../queryKeys";

type Dialog = { kind: "add"; path?: string } | { kind: "publish"; entry: FirmwareEntry } | { kind: "delete"; entry: FirmwareEntry };

/** Opens the add dialog with the dropped file; shows a hint while a file is dragged over the window. */
function useFileDrop(onDrop: (path: string) => void): boolean {
  const [over, setOver] = useState(false);
  useEffect(() => {
    let stop: (() => void) | null = null;
    let disposed = false;
    try {
      getCurrentWebview()
        .onDragDropEvent((event) => {
          const payload = event.payload;
          if (payload.type === "enter" || payload.type === "over") setOver(true);
          else if (payload.type === "leave") setOver(false);
          else if (payload.type === "drop") {
            setOver(false);
            const first = payload.paths[0];
            if (first) onDrop(first);
          }
        })
        .then((unlisten) => {
          if (disposed) unlisten();
          else stop = unlisten;
        })
        .catch(() => {});
    } catch {
      // Outside the app shell there is no webview to listen to.
    }
    return () => {
      disposed = true;
      stop?.();
    };
  }, [onDrop]);
  return over;
}

const short = (hash: string) => `${hash.slice(0, 10)}…`;

/** The firmware library: add (dialog, drop or path), publish to a cloud, delete when no campaign uses it. */
export function FirmwareView() {
  const queryClient = useQueryClient();
  const list = useFirmwareList();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [dropOpen] = useState(() => (path: string) => setDialog({ kind: "add", path }));
  const dragging = useFileDrop(dropOpen);
  const remove = useMutation<FirmwareEntry, ApiError, number>({
    mutationFn: deleteFirmware,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.library }),
    onSettled: () => setDialog(null),
  });

  return (
    <div className="view firmware-view">
      <div className="view-head">
        <h2 className="view-title">{t("library.title")}</h2>
        <button type="button" className="button primary" onClick={() => setDialog({ kind: "add" })}>
          {t("library.add")}
        </button>
      </div>
      {dragging ? (
        <p className="drop-hint" role="status">
          {t("library.dropHint")}
        </p>
      ) : null}
      {remove.error ? <ErrorMessage error={remove.error} /> : null}
      {list.isPending ? <p role="status">{t("library.loading")}</p> : null}
      {list.error && !list.data ? <ErrorMessage error={list.error} onRetry={() => void list.refetch()} /> : null}
      {list.data && list.data.length === 0 ? <p className="empty-note">{t("library.empty")}</p> : null}
      {list.data && list.data.length > 0 ? (
        <div className="table-scroll">
          <table className="data-table" aria-label={t("library.tableLabel")}>
            <thead>
              <tr>
                <th scope="col">{t("library.file")}</th>
                <th scope="col">{t("library.version")}</th>
                <th scope="col">{t("library.cloud")}</th>
                <th scope="col">{t("library.model")}</th>
                <th scope="col">{t("library.size")}</th>
                <th scope="col">{t("library.hashes")}</th>
                <th scope="col">{t("library.added")}</th>
                <th scope="col">{t("library.published")}</th>
                <th scope="col">{t("library.usedBy")}</th>
                <th scope="col">{t("library.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((entry) => {
                const names = { file: entry.fileName, version: entry.version };
                const inUse = entry.campaigns > 0;
                return (
                  <tr key={entry.id} data-firmware-id={entry.id}>
                    <td title={entry.notes || undefined}>{entry.fileName}</td>
                    <td>{entry.version}</td>
                    <td>
                      <CloudBadge cloud={entry.cloud} />
                    </td>
                    <td>{entry.model ?? t("library.anyModel")}</td>
                    <td>{formatSize(entry.size)}</td>
                    <td className="mono">
                      <span title={`MD5 ${entry.md5}`}>{short(entry.md5)}</span>{" "}
                      <span title={`SHA-256 ${entry.sha256}`}>{short(entry.sha256)}</span>
                    </td>
                    <td>{t("library.addedBy", { who: entry.addedBy, when: formatDateTime(entry.addedAt) })}</td>
                    <td>
                      {entry.publications.length === 0
                        ? t("library.notPublished")
                        : entry.publications.map((p) => (
                            <div key={p.accountId} title={formatDateTime(p.publishedAt)}>
                              {p.accountName}: {p.detail}
                            </div>
                          ))}
                    </td>
                    <td>{entry.campaigns}</td>
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="button small"
                        aria-label={t("library.publishLabel", names)}
                        onClick={() => setDialog({ kind: "publish", entry })}
                      >
                        {t("library.publish")}
                      </button>{" "}
                      <button
                        type="button"
                        className="button small danger"
                        aria-label={t("library.deleteLabel", names)}
                        aria-disabled={inUse}
                        title={inUse ? t("library.deleteInUse", { n: entry.campaigns }) : undefined}
                        onClick={() => {
                          if (!inUse) setDialog({ kind: "delete", entry });
                        }}
                      >
                        {t("library.delete")}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {dialog?.kind === "add" ? (
        <AddFirmwareDialog {...(dialog.path ? { initialPath: dialog.path } : {})} onClose={() => setDialog(null)} />
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
