import { useMutation, useQueryClient } from "@tanstack/react-query";
import { open } from "@tauri-apps/plugin-dialog";
import { useState, type FormEvent } from "react";

import { addFirmware, toApiError } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { Cloud } from "../bindings/Cloud";
import type { FirmwareAdded } from "../bindings/FirmwareAdded";
import { t } from "../i18n";
import { CLOUDS, isCloud } from "../lib/clouds";
import { cloudLabel } from "../lib/format";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";
import { SelectField, TextField } from "./Field";
import { Modal } from "./Modal";

interface Props {
  /** A path to start with (a file dropped on the window). */
  initialPath?: string;
  onClose: () => void;
}

function addedText(added: FirmwareAdded): string {
  const params = { file: added.entry.fileName, version: added.entry.version };
  if (!added.created) return t("add.existing", params);
  return added.deduplicated ? t("add.deduplicated", params) : t("add.created", params);
}

/** Adds a file to the library: chosen in the file dialog, dropped on the window, or a typed path. */
export function AddFirmwareDialog({ initialPath = "", onClose }: Props) {
  const queryClient = useQueryClient();
  const [path, setPath] = useState(initialPath);
  const [version, setVersion] = useState("");
  const [cloud, setCloud] = useState<Cloud>("vicohome");
  const [model, setModel] = useState("");
  const [notes, setNotes] = useState("");
  const [chooseError, setChooseError] = useState<ApiError | null>(null);
  const add = useMutation<FirmwareAdded, ApiError>({
    mutationFn: () =>
      addFirmware({
        path: path.trim(),
        version: version.trim(),
        cloud,
        ...(model.trim() ? { model: model.trim() } : {}),
        ...(notes.trim() ? { notes: notes.trim() } : {}),
      }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.library }),
  });

  const choose = async () => {
    setChooseError(null);
    try {
      const chosen = await open({ multiple: false, directory: false, title: t("add.title") });
      if (typeof chosen === "string") setPath(chosen);
    } catch (err) {
      setChooseError(toApiError(err));
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };

  return (
    <Modal title={t("add.title")} onClose={onClose} className="wide-modal">
      <form className="stack-form" onSubmit={submit}>
        <div className="file-row">
          <TextField label={t("add.file")} value={path} onChange={setPath} placeholder={t("add.filePlaceholder")} required />
          <button type="button" className="button" onClick={() => void choose()}>
            {t("add.choose")}
          </button>
        </div>
        <div className="form-grid">
          <TextField label={t("add.version")} value={version} onChange={setVersion} required />
          <SelectField label={t("add.cloud")} value={cloud} onChange={(v) => isCloud(v) && setCloud(v)}>
            {CLOUDS.map((c) => (
              <option key={c} value={c}>
                {cloudLabel(c)}
              </option>
            ))}
          </SelectField>
          <TextField label={t("add.model")} value={model} onChange={setModel} />
          <TextField label={t("add.notes")} value={notes} onChange={setNotes} />
        </div>
        {chooseError ? <ErrorMessage error={chooseError} /> : null}
        {add.error ? <ErrorMessage error={add.error} /> : null}
        {add.data ? (
          <p role="status" className="success-note">
            {addedText(add.data)}
          </p>
        ) : null}
        <div className="modal-actions">
          <button type="button" className="button" onClick={onClose}>
            {t("add.close")}
          </button>
          <button type="submit" className="button primary" disabled={add.isPending} aria-busy={add.isPending}>
            {add.isPending ? t("add.busy") : t("add.submit")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
