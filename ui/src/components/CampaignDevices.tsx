import { useState } from "react";

import type { CampaignDeviceState } from "../bindings/CampaignDeviceState";
import { useCampaignDevices } from "../hooks/useLibrary";
import { useNow } from "../hooks/useNow";
import { t, type MessageKey } from "../i18n";
import { formatAge, formatTime } from "../lib/format";
import { ErrorMessage } from "./ErrorMessage";
import { SelectField } from "./Field";
import { ProgressBar } from "./ProgressBar";

const PAGE = 200;
const STATES: CampaignDeviceState[] = ["pending", "starting", "running", "succeeded", "failed", "skipped", "cancelled"];

/** Seconds matter while a campaign runs: "4 s ago", then the usual "3 min ago". */
function reportAge(at: number, now: number): string {
  const secs = Math.max(0, Math.floor((now - at) / 1000));
  return secs < 60 ? t("age.seconds", { n: secs }) : formatAge(at, now);
}

export const deviceStateLabel = (state: CampaignDeviceState) => t(`deviceState.${state}` as MessageKey);

/** The campaign's devices with the cloud's last report and its age (never an assumed value). */
export function CampaignDevices({ campaignId, live }: { campaignId: number; live: boolean }) {
  const [state, setState] = useState<CampaignDeviceState | "">("");
  const [offset, setOffset] = useState(0);
  const now = useNow(1_000);
  const page = useCampaignDevices(
    campaignId,
    { ...(state ? { state } : {}), offset, limit: PAGE },
    live,
  );
  const rows = page.data?.rows ?? [];
  const matching = page.data?.matching ?? 0;
  return (
    <section className="campaign-devices">
      <div className="toolbar">
        <h3>{t("dashboard.deviceTable")}</h3>
        <SelectField
          label={t("dashboard.stateFilter")}
          value={state}
          onChange={(v) => {
            setState(STATES.find((s) => s === v) ?? "");
            setOffset(0);
          }}
        >
          <option value="">{t("dashboard.allStates")}</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {deviceStateLabel(s)}
            </option>
          ))}
        </SelectField>
        <span className="muted">
          {t("dashboard.page", { from: matching === 0 ? 0 : offset + 1, to: offset + rows.length, n: matching })}
        </span>
        <button type="button" className="button small" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          {t("dashboard.prevPage")}
        </button>
        <button
          type="button"
          className="button small"
          disabled={offset + PAGE >= matching}
          onClick={() => setOffset(offset + PAGE)}
        >
          {t("dashboard.nextPage")}
        </button>
      </div>
      {page.error ? <ErrorMessage error={page.error} /> : null}
      <div className="table-scroll">
        <table className="data-table" aria-label={t("dashboard.deviceTable")}>
          <thead>
            <tr>
              <th scope="col">{t("dashboard.device")}</th>
              <th scope="col">{t("dashboard.name")}</th>
              <th scope="col">{t("dashboard.model")}</th>
              <th scope="col">{t("dashboard.wave")}</th>
              <th scope="col">{t("campaigns.state")}</th>
              <th scope="col">{t("dashboard.percent")}</th>
              <th scope="col">{t("dashboard.reported")}</th>
              <th scope="col">{t("dashboard.attempts")}</th>
              <th scope="col">{t("dashboard.error")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={`${d.accountId}/${d.deviceId}`} data-device-id={d.deviceId} className={`device-${d.state}`}>
                <td className="mono">{d.deviceId}</td>
                <td>{d.name}</td>
                <td>{d.model}</td>
                <td>{d.wave === null ? "—" : d.wave + 1}</td>
                <td>{deviceStateLabel(d.state)}</td>
                <td>
                  <ProgressBar
                    percent={d.percent}
                    label={t("dashboard.progressLabel", { device: d.deviceId })}
                    failed={d.state === "failed"}
                  />
                </td>
                <td>
                  {d.reportedAt === null
                    ? t("dashboard.notReported")
                    : t("dashboard.reportedAge", { state: d.remoteState ?? "", age: reportAge(d.reportedAt, now) })}
                </td>
                <td>
                  {d.attempts}
                  {d.nextAttemptAt !== null && d.nextAttemptAt > now ? (
                    <span className="muted"> · {t("dashboard.nextAttempt", { time: formatTime(d.nextAttemptAt) })}</span>
                  ) : null}
                </td>
                <td title={d.error?.hint ?? undefined}>
                  {d.error ? d.error.message : ""}
                  {d.error?.vendorCode ? <span className="error-code"> ({t("error.vendorCode", { code: d.error.vendorCode })})</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
