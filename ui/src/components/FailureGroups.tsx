import type { FailureGroup } from "../bindings/FailureGroup";
import { t } from "../i18n";

/** The campaign's failures grouped by reason: what happened, the vendor's code, what to do, and where. */
export function FailureGroups({ failures }: { failures: FailureGroup[] }) {
  if (failures.length === 0) return <p className="muted">{t("dashboard.noFailures")}</p>;
  return (
    <ul className="failure-groups" aria-label={t("dashboard.failures")}>
      {failures.map((f) => (
        <li key={`${f.code}/${f.vendorCode ?? ""}/${f.message}`} className={`error-${f.code}`}>
          <strong>{t("dashboard.failureCount", { n: f.count })}</strong> — {f.message}
          {f.vendorCode ? <span className="error-code"> ({t("error.vendorCode", { code: f.vendorCode })})</span> : null}
          {f.hint ? <div className="error-hint">{f.hint}</div> : null}
          {f.devices.length > 0 ? (
            <div className="muted mono">
              {f.devices.join(", ")}
              {f.count > f.devices.length ? ` ${t("dashboard.andMore", { n: f.count - f.devices.length })}` : ""}
            </div>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
