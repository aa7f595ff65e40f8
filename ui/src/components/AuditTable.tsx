import type { AuditEntry } from "../bindings/AuditEntry";
import { t } from "../i18n";
import { formatDateTime } from "../lib/format";
import { CloudBadge } from "./CloudBadge";

/** Audit entries as the store answered them (newest first). */
export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
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
          {entries.map((e) => (
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
  );
}
