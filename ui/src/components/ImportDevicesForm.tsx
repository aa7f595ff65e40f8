import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type ChangeEvent, type FormEvent } from "react";

import { importDevices } from "../api";
import type { ApiError } from "../bindings/ApiError";
import { useAccounts } from "../hooks/useServerState";
import { t } from "../i18n";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";
import { Spinner } from "./Spinner";

/** Adds OneNET devices by id or from a CSV file (the file is read here; the webview gets no file access). */
export function ImportDevicesForm() {
  const ids = useId();
  const queryClient = useQueryClient();
  const accounts = useAccounts();
  const onenet = (accounts.data ?? []).filter((a) => a.cloud === "onenet");
  const [accountId, setAccountId] = useState<number | null>(null);
  const [csv, setCsv] = useState("");
  const chosen = accountId ?? onenet[0]?.id ?? null;

  const submit = useMutation<number, ApiError, { accountId: number; csv: string }>({
    mutationFn: ({ accountId: id, csv: text }) => importDevices(id, text),
    onSuccess: () => {
      setCsv("");
      void queryClient.invalidateQueries({ queryKey: queryKeys.devices });
    },
  });

  if (onenet.length === 0) return <p className="muted">{t("import.noAccount")}</p>;

  const onFile = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) void file.text().then(setCsv);
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (chosen !== null) submit.mutate({ accountId: chosen, csv });
  };

  return (
    <form className="form" onSubmit={onSubmit}>
      <p className="muted">{t("import.note")}</p>
      <label htmlFor={`${ids}-account`}>{t("import.account")}</label>
      <select
        id={`${ids}-account`}
        value={chosen ?? ""}
        onChange={(e) => setAccountId(Number(e.target.value))}
      >
        {onenet.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name}
          </option>
        ))}
      </select>
      <label htmlFor={`${ids}-file`}>{t("import.file")}</label>
      <input id={`${ids}-file`} type="file" accept=".csv,text/csv,text/plain" onChange={onFile} />
      <label htmlFor={`${ids}-text`}>{t("import.text")}</label>
      <textarea
        id={`${ids}-text`}
        rows={4}
        value={csv}
        placeholder="527776559,Pump 1,102,10201,V1"
        onChange={(e) => setCsv(e.target.value)}
      />
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={submit.isPending || csv.trim() === ""}>
          {submit.isPending ? <Spinner /> : null}
          {t("import.submit")}
        </button>
        {submit.isSuccess ? (
          <span role="status">{t("import.done", { count: String(submit.data) })}</span>
        ) : null}
      </div>
      {submit.error ? <ErrorMessage error={submit.error} /> : null}
    </form>
  );
}
