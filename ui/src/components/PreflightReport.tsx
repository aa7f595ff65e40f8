import type { Preflight } from "../bindings/Preflight";
import { t } from "../i18n";

const LISTED = 50;

/** What a campaign would do: how many devices take it, per wave, and those left out with why. */
export function PreflightReport({ preflight }: { preflight: Preflight }) {
  return (
    <section className="preflight" aria-label={t("preflight.label")}>
      <h3>{t("preflight.label")}</h3>
      <p>
        <strong>{t("preflight.summary", { eligible: preflight.eligible, targets: preflight.targets })}</strong>{" "}
        {t("preflight.waves", { sizes: preflight.waveSizes.join(" → ") })}
      </p>
      {preflight.byReason.length > 0 ? (
        <>
          <h4>{t("preflight.leftOut")}</h4>
          <ul className="reason-list">
            {preflight.byReason.map((r) => (
              <li key={r.reason}>
                {r.label}: <strong>{r.count}</strong>
              </li>
            ))}
          </ul>
          <table className="data-table compact" aria-label={t("preflight.excluded")}>
            <tbody>
              {preflight.excluded.slice(0, LISTED).map((e) => (
                <tr key={`${e.accountId}/${e.deviceId}`}>
                  <td className="mono">{e.deviceId}</td>
                  <td>{e.name}</td>
                  <td>{e.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {preflight.excluded.length > LISTED ? (
            <p className="muted">{t("preflight.more", { n: preflight.excluded.length - LISTED })}</p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
