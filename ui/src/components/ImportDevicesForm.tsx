import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";

import { chooseDeviceCsv, importDevices, toApiError } from "../api";
import type { ApiError } from "../bindings/ApiError";
import { useAccounts } from "../hooks/useServerState";
import { t } from "../i18n";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";
import { Spinner } from "./Spinner";

/** Adds OneNET devices by id or from a CSV file (Rust opens the file dialog and reads the file into the form). */
export function ImportDevicesForm() {
  const ids = useId();
  const queryClient = useQueryClient();
  const accounts = useAccounts();
  const onenet = (accounts.data ?? []).filter((a) => a.cloud === "onenet");
  const [accountId, setAccountId] = useState<number | null>(null);
  const [csv, setCsv] = useState("");
  const [fileName, setFileName] = useState<string | null>(null);
  const [fileError, setFileError] = useState<ApiError | null>(null);
  const chosen = accountId ?? onenet[0]?.id ?? null;

  const submit = useMutation<number, ApiError, { accountId: number; csv: string }>({
    mutationFn: ({ accountId: id, csv: text }) => importDevices(id, text),
    onSuccess: () => {
      setCsv("");
      setFileName(null);
      void queryClient.invalidateQueries({ queryKey: queryKeys.devices });
    },
  });

  if (onenet.length === 0) return <p className="muted">{t("import.noAccount")}</p>;

  const chooseFile = async () => {
    setFileError(null);
    try {
      const file = await chooseDeviceCsv();
      if (file) {
        setFileName(file.fileName);
        setCsv(file.text);
      }
    } catch (err) {
      setFileError(toApiError(err));
    }
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (chosen !== null) submit.mutate({ accountId: chosen, csv });
  };

  return (
    <form className="import-form" onSubmit={onSubmit}>
      <p className="muted import-note">{t("import.note")}</p>
      <div className="import-sources">
        <div className="field">
          <label htmlFor={`${ids}-account`}>{t("import.account")}</label>
          <select id={`${ids}-account`} value={chosen ?? ""} onChange={(e) => setAccountId(Number(e.target.value))}>
            {onenet.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-file`}>{t("import.file")}</label>
          <div className="file-row">
            <button
              id={`${ids}-file`}
              type="button"
              className="button"
              aria-label={t("import.choose")}
              onClick={() => void chooseFile()}
            >
              {t("import.choose")}
            </button>
            {fileName ? <span className="muted">{fileName}</span> : null}
          </div>
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-text`}>{t("import.text")}</label>
        <textarea
          id={`${ids}-text`}
          className="mono"
          rows={4}
          value={csv}
          placeholder="527776559,Pump 1,102,10201,V1"
          spellCheck={false}
          onChange={(e) => setCsv(e.target.value)}
        />
      </div>
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={submit.isPending || csv.trim() === ""}>
          {submit.isPending ? <Spinner /> : null}
          {t("import.submit")}
        </button>
        {submit.isSuccess ? (
          <span role="status" className="success-note">
            {t("import.done", { count: String(submit.data) })}
          </span>
        ) : null}
      </div>
      {fileError ? <ErrorMessage error={fileError} /> : null}
      {submit.error ? <ErrorMessage error={submit.error} /> : null}
    </form>
  );
}
