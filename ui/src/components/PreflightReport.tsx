import type { Preflight } from "../bindings/Preflight";
import { t } from "../i18n";

/** What a campaign would do: how many devices take it, per wave, and those left out with why. */
export function PreflightReport({ preflight }: { preflight: Preflight }) {
  const leftOut = preflight.byReason.reduce((sum, r) => sum + r.count, 0);
  return (
    <section className="preflight" aria-label={t("preflight.label")}>
      <h3>{t("preflight.label")}</h3>
      <p>
        <strong>{t("preflight.summary", { eligible: preflight.eligible, targets: preflight.targets })}</strong>{" "}
        {preflight.waveSizes.length > 0 ? t("preflight.waves", { sizes: preflight.waveSizes.join(" → ") }) : null}
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
          {preflight.excluded.length > 0 ? (
            <div className="table-scroll preflight-excluded">
              <table className="data-table compact" aria-label={t("preflight.excluded")}>
                <thead>
                  <tr>
                    <th scope="col">{t("preflight.device")}</th>
                    <th scope="col">{t("preflight.name")}</th>
                    <th scope="col">{t("preflight.reason")}</th>
                  </tr>
                </thead>
                <tbody>
                  {preflight.excluded.map((e) => (
                    <tr key={`${e.accountId}/${e.deviceId}`}>
                      <td className="mono">{e.deviceId}</td>
                      <td>{e.name}</td>
                      <td>{e.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {leftOut > preflight.excluded.length ? (
            <p className="muted">{t("preflight.listed", { listed: preflight.excluded.length, n: leftOut })}</p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
