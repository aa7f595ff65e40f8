import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { addFirmware, chooseFirmwareFile, toApiError } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { ChosenFile } from "../bindings/ChosenFile";
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
  /** A file to start with (dropped on the window). */
  initialFile?: ChosenFile | null;
  onClose: () => void;
}

function addedText(added: FirmwareAdded): string {
  const params = { file: added.entry.fileName, version: added.entry.version };
  if (!added.created) return t("add.existing", params);
  return added.deduplicated ? t("add.deduplicated", params) : t("add.created", params);
}

/**
 * Adds a file to the library: chosen in the file dialog (Rust opens it) or dropped on the window. The window
 * holds only a one-time handle for the file and its name, never a path.
 */
export function AddFirmwareDialog({ initialFile = null, onClose }: Props) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<ChosenFile | null>(initialFile);
  const [version, setVersion] = useState("");
  const [cloud, setCloud] = useState<Cloud>("vicohome");
  const [model, setModel] = useState("");
  const [notes, setNotes] = useState("");
  const [chooseError, setChooseError] = useState<ApiError | null>(null);
  const add = useMutation<FirmwareAdded, ApiError, ChosenFile>({
    mutationFn: (chosen) =>
      addFirmware(chosen.handle, {
        version: version.trim(),
        cloud,
        ...(model.trim() ? { model: model.trim() } : {}),
        ...(notes.trim() ? { notes: notes.trim() } : {}),
      }),
    onSuccess: () => {
      // The handle is used up: another package is chosen anew.
      setFile(null);
      void queryClient.invalidateQueries({ queryKey: queryKeys.library });
    },
  });

  const choose = async () => {
    setChooseError(null);
    try {
      const chosen = await chooseFirmwareFile();
      if (chosen) setFile(chosen);
    } catch (err) {
      setChooseError(toApiError(err));
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (file) add.mutate(file);
    else setChooseError({ code: "validation", message: t("add.noFile") });
  };

  return (
    <Modal title={t("add.title")} onClose={onClose} className="wide-modal">
      <form className="stack-form" onSubmit={submit}>
        <div className="file-row">
          <label className="field">
            <span>{t("add.file")}</span>
            <input aria-label={t("add.file")} readOnly value={file?.fileName ?? ""} placeholder={t("add.noFile")} />
          </label>
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
