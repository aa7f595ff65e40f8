import { useMutation } from "@tanstack/react-query";
import { useState } from "react";

import { exportAudit } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { AuditExported } from "../bindings/AuditExported";
import type { AuditFormat } from "../bindings/AuditFormat";
import { AuditTable } from "../components/AuditTable";
import { ErrorMessage } from "../components/ErrorMessage";
import { SelectField, TextField } from "../components/Field";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { useAudit } from "../hooks/useLibrary";
import { t } from "../i18n";
import { NO_AUDIT_FILTERS, toAuditQuery, type AuditFilters } from "../lib/audit";
import { CLOUDS } from "../lib/clouds";
import { cloudLabel } from "../lib/format";

/** Entries shown at most; the export writes every matching one. */
const SHOWN = 1_000;

/** Every change made to a cloud or the library, filtered; exported to CSV or JSON where the user chooses. */
export function AuditView() {
  const [filters, setFilters] = useState<AuditFilters>(NO_AUDIT_FILTERS);
  const set = (key: keyof AuditFilters) => (value: string) => setFilters((f) => ({ ...f, [key]: value }));
  const debounced = useDebouncedValue(filters, 250);
  const entries = useAudit(toAuditQuery(debounced, SHOWN));
  // Rust asks where to save (its own save dialog) and writes there; null when the user closed the dialog.
  const exporter = useMutation<AuditExported | null, ApiError, AuditFormat>({
    mutationFn: (format) => exportAudit(toAuditQuery(filters, 0), format),
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
          {t("audit.exported", { n: exporter.data.count, path: exporter.data.path })}
        </p>
      ) : null}
      {entries.isPending ? <p role="status">{t("audit.loading")}</p> : null}
      {entries.error ? <ErrorMessage error={entries.error} onRetry={() => void entries.refetch()} /> : null}
      {entries.data ? (
        <p className="muted">
          {entries.data.length >= SHOWN ? t("audit.countCapped", { n: SHOWN }) : t("audit.count", { n: entries.data.length })}
        </p>
      ) : null}
      {entries.data && entries.data.length === 0 ? <p className="empty-note">{t("audit.empty")}</p> : null}
      {entries.data && entries.data.length > 0 ? <AuditTable entries={entries.data} /> : null}
    </div>
  );
}
