import type { CampaignView } from "../bindings/CampaignView";
import type { WaveSummary } from "../bindings/WaveSummary";
import { t } from "../i18n";

interface Props {
  waves: WaveSummary[];
  campaign: Pick<CampaignView, "currentWave" | "state">;
}

/** Each wave's devices and outcomes; the wave being worked on is marked (while the campaign can go on). */
export function WaveTable({ waves, campaign }: Props) {
  const finished = campaign.state === "completed" || campaign.state === "cancelled";
  return (
    <table className="data-table compact" aria-label={t("dashboard.waves")}>
      <thead>
        <tr>
          <th scope="col">{t("dashboard.wave")}</th>
          <th scope="col">{t("dashboard.devices")}</th>
          <th scope="col">{t("dashboard.succeeded")}</th>
          <th scope="col">{t("dashboard.failed")}</th>
          <th scope="col">{t("dashboard.failurePercent")}</th>
          <th scope="col">{t("dashboard.open")}</th>
        </tr>
      </thead>
      <tbody>
        {waves.map((w) => {
          const current = w.index === campaign.currentWave && !finished;
          return (
            <tr key={w.index} aria-current={current ? "step" : undefined} className={current ? "current-wave" : undefined}>
              <td>
                {t("dashboard.waveN", { n: w.index + 1 })}
                {current ? ` (${t("dashboard.current")})` : ""}
              </td>
              <td>{w.counts.total}</td>
              <td>{w.counts.succeeded}</td>
              <td>{w.counts.failed}</td>
              <td>{w.failurePercent.toFixed(1)} %</td>
              <td>{w.counts.pending + w.counts.inFlight}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
