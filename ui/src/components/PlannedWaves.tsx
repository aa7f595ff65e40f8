import type { CampaignPlan } from "../bindings/CampaignPlan";
import { t } from "../i18n";
import { formatDateTime } from "../lib/format";

/** Each wave of the plan with its devices and when it can start at the earliest (Rust's rule, in words). */
export function PlannedWaves({ plan }: { plan: CampaignPlan }) {
  if (plan.waves.length === 0) return null;
  return (
    <table className="data-table compact" aria-label={t("plan.label")}>
      <thead>
        <tr>
          <th scope="col">{t("plan.wave")}</th>
          <th scope="col">{t("plan.devices")}</th>
          <th scope="col">{t("plan.earliest")}</th>
        </tr>
      </thead>
      <tbody>
        {plan.waves.map((w) => (
          <tr key={w.wave}>
            <th scope="row">{t("dashboard.waveN", { n: w.wave + 1 })}</th>
            <td>{w.devices}</td>
            <td>
              {w.earliestStartMs !== null ? `${formatDateTime(w.earliestStartMs)} · ` : ""}
              {w.after}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
