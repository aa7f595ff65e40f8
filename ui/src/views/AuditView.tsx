import { useMutation } from "@tanstack/react-query";
import { save } from "@tauri-apps/plugin-dialog";
import { useState } from "react";

import { exportAudit } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { AuditFormat } from "../bindings/AuditFormat";
import type { AuditQuery } from "../bindings/AuditQuery";
import { CloudBadge } from "../components/CloudBadge";
import { ErrorMessage } from "../components/ErrorMessage";
import { SelectField, TextField } from "../components/Field";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { useAudit } from "../hooks/useLibrary";
import { t } from "../i18n";
import { CLOUDS, isCloud } from "../lib/clouds";
import { cloudLabel, formatDateTime } from "../lib/format";

const SHOWN = 1_000;

interface Filters {
  action: string;
  cloud: string;
  result: string;
  text: string;
  since: string;
  until: string;
}

export function toAuditQuery(f: Filters, limit: number): AuditQuery {
  const time = (v: string) => (v ? new Date(v).getTime() : NaN);
  const since = time(f.since);
  const until = time(f.until);
  return {
    ...(f.action.trim() ? { action: f.action.trim() } : {}),
    ...(isCloud(f.cloud) ? { cloud: f.cloud } : {}),
    ...(f.result ? { result: f.result } : {}),
    ...(f.text.trim() ? { text: f.text.trim() } : {}),
    ...(Number.isFinite(since) ? { since } : {}),
    ...(Number.isFinite(until) ? { until } : {}),
    limit,
  };
}

/** Every change made to a cloud or the library, filtered; exported to CSV or JSON through a save dialog. */
export function AuditView() {
  const [filters, setFilters] = useState<Filters>({ action: "", cloud: "", result: "", text: "", since: "", until: "" });
  const set = (key: keyof Filters) => (value: string) => setFilters((f) => ({ ...f, [key]: value }));
  const debounced = useDebouncedValue(filters, 250);
  const entries = useAudit(toAuditQuery(debounced, SHOWN));
  const exporter = useMutation<{ n: number; path: string } | null, ApiError, AuditFormat>({
    mutationFn: async (format) => {
      const day = new Date().toISOString().slice(0, 10);
      const path = await save({
        defaultPath: `ota-console-audit-${day}.${format}`,
        filters: [{ name: format.toUpperCase(), extensions: [format] }],
      });
      if (!path) return null;
      const n = await exportAudit(toAuditQuery(filters, 0), format, path);
      return { n, path };
    },
  });

  return (
    <div className="view audit-view">
      <div className="view-head">
        <h2 className="view-title">{t("audit.title")}</h2>
        <button type="button" className="button" onClick={() => exporter.mutate("csv")} disabled={exporter.isPending}>
          {t("audit.exportCsv")}
        </button>
        <button type="button" className="button" onClick={() => exporter.mutate("json")} disabled={exporter.isPending}>
          {t("audit.exportJson")}
        </button>
      </div>
      <div className="form-grid audit-filters">
        <TextField label={t("audit.action")} value={filters.action} onChange={set("action")} placeholder={t("audit.actionPlaceholder")} />
        <SelectField label={t("audit.cloud")} value={filters.cloud} onChange={set("cloud")}>
          <option value="">{t("audit.anyCloud")}</option>
          {CLOUDS.map((c) => (
            <option key={c} value={c}>
              {cloudLabel(c)}
            </option>
          ))}
        </SelectField>
        <SelectField label={t("audit.result")} value={filters.result} onChange={set("result")}>
          <option value="">{t("audit.anyResult")}</option>
          <option value="ok">{t("audit.ok")}</option>
          <option value="error">{t("audit.error")}</option>
        </SelectField>
        <TextField label={t("audit.search")} value={filters.text} onChange={set("text")} type="search" />
        <TextField label={t("audit.from")} value={filters.since} onChange={set("since")} type="datetime-local" />
        <TextField label={t("audit.until")} value={filters.until} onChange={set("until")} type="datetime-local" />
      </div>
      {exporter.error ? <ErrorMessage error={exporter.error} /> : null}
      {exporter.data ? (
        <p role="status" className="success-note">
          {t("audit.exported", { n: exporter.data.n, path: exporter.data.path })}
        </p>
      ) : null}
      {entries.isPending ? <p role="status">{t("audit.loading")}</p> : null}
      {entries.error ? <ErrorMessage error={entries.error} onRetry={() => void entries.refetch()} /> : null}
      {entries.data ? <p className="muted">{t("audit.count", { n: entries.data.length })}</p> : null}
      {entries.data && entries.data.length === 0 ? <p className="empty-note">{t("audit.empty")}</p> : null}
      {entries.data && entries.data.length > 0 ? (
        <div className="table-scroll">
          <table className="data-table" aria-label={t("audit.tableLabel")}>
            <thead>
              <tr>
                <th scope="col">{t("audit.time")}</th>
                <th scope="col">{t("audit.actor")}</th>
                <th scope="col">{t("audit.action")}</th>
                <th scope="col">{t("audit.cloud")}</th>
                <th scope="col">{t("audit.target")}</th>
                <th scope="col">{t("audit.result")}</th>
                <th scope="col">{t("audit.detail")}</th>
              </tr>
            </thead>
            <tbody>
              {entries.data.map((e) => (
                <tr key={e.id} className={e.result === "ok" ? undefined : "audit-error"}>
                  <td>{formatDateTime(e.at)}</td>
                  <td>{e.actor}</td>
                  <td className="mono">{e.action}</td>
                  <td>{e.cloud ? <CloudBadge cloud={e.cloud} /> : null}</td>
                  <td>{e.target}</td>
                  <td>{e.result === "ok" ? t("audit.ok") : t("audit.error")}</td>
                  <td>{e.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
