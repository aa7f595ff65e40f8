import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { actOnCampaign, type CampaignAction } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { CampaignState } from "../bindings/CampaignState";
import type { CampaignView } from "../bindings/CampaignView";
import { isLive, useCampaignDashboard } from "../hooks/useLibrary";
import { t, type MessageKey } from "../i18n";
import { cloudLabel, formatDateTime, formatDuration } from "../lib/format";
import { queryKeys } from "../queryKeys";
import { CampaignDevices } from "./CampaignDevices";
import { ConfirmDialog } from "./ConfirmDialog";
import { ErrorMessage } from "./ErrorMessage";
import { ProgressChart } from "./ProgressChart";

export const campaignStateLabel = (state: CampaignState) => t(`campaignState.${state}` as MessageKey);

/** Which actions a campaign in `state` offers, in the order they are shown. */
export function actionsFor(campaign: Pick<CampaignView, "state" | "counts">): CampaignAction[] {
  const actions: CampaignAction[] = [];
  if (campaign.state === "ready") actions.push("start");
  if (campaign.state === "running") actions.push("pause");
  if (campaign.state === "paused") actions.push("resume");
  if (campaign.state !== "cancelled" && campaign.counts.failed > 0) actions.push("retry_failed");
  if (campaign.state === "ready" || campaign.state === "running" || campaign.state === "paused") actions.push("cancel");
  if (campaign.state !== "running" && campaign.state !== "paused" && campaign.counts.inFlight === 0) actions.push("delete");
  return actions;
}

const ACTION_LABELS: Record<CampaignAction, MessageKey> = {
  start: "dashboard.start",
  pause: "dashboard.pause",
  resume: "dashboard.resume",
  cancel: "dashboard.cancel",
  retry_failed: "dashboard.retry",
  delete: "dashboard.delete",
};

function Tile({ label, value }: { label: string; value: string | number }) {
  return (
    <div className="tile">
      <span className="tile-label">{label}</span>
      <span className="tile-value">{value}</span>
    </div>
  );
}

/** Everything about one campaign: state and actions, counts, pace, waves, chart, failures, devices. */
export function CampaignDashboard({ id, onBack }: { id: number; onBack: () => void }) {
  const queryClient = useQueryClient();
  const dashboard = useCampaignDashboard(id);
  const [confirming, setConfirming] = useState<"cancel" | "delete" | null>(null);
  const act = useMutation<CampaignView, ApiError, CampaignAction>({
    mutationFn: (action) => actOnCampaign(id, action),
    onSuccess: (_view, action) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.campaigns });
      if (action === "delete") onBack();
    },
    onSettled: () => setConfirming(null),
  });

  const data = dashboard.data;
  const back = (
    <button type="button" className="button" onClick={onBack}>
      {t("dashboard.back")}
    </button>
  );
  if (!data) {
    return (
      <div className="view campaign-dashboard">
        {back}
        {dashboard.error ? <ErrorMessage error={dashboard.error} onRetry={() => void dashboard.refetch()} /> : null}
        {dashboard.isPending ? <p role="status">{t("dashboard.loading")}</p> : null}
      </div>
    );
  }
  const c = data.campaign;
  const counts = c.counts;
  const run = (action: CampaignAction) => {
    if (action === "cancel" || action === "delete") setConfirming(action);
    else act.mutate(action);
  };

  return (
    <div className="view campaign-dashboard">
      <div className="view-head">
        {back}
        <h2 className="view-title">{c.name}</h2>
        <span role="status" aria-label={t("dashboard.state")} className={`state-badge campaign-${c.state}`}>
          {campaignStateLabel(c.state)}
        </span>
      </div>
      <p className="muted">
        {t("dashboard.firmware", { file: c.firmwareFile, version: c.firmwareVersion, cloud: cloudLabel(c.cloud) })}
      </p>
      {c.reason ? <p className="campaign-reason">{c.reason}</p> : null}
      <div className="action-row">
        {actionsFor(c).map((action) => (
          <button
            key={action}
            type="button"
            className={action === "cancel" || action === "delete" ? "button danger" : "button primary"}
            disabled={act.isPending}
            onClick={() => run(action)}
          >
            {t(ACTION_LABELS[action])}
          </button>
        ))}
      </div>
      {act.error ? <ErrorMessage error={act.error} /> : null}

      <div className="tiles">
        <Tile label={t("dashboard.total")} value={counts.total} />
        <Tile label={t("dashboard.succeeded")} value={counts.succeeded} />
        <Tile label={t("dashboard.failed")} value={counts.failed} />
        <Tile label={t("dashboard.inFlight")} value={counts.inFlight} />
        <Tile label={t("dashboard.pending")} value={counts.pending} />
        <Tile label={t("dashboard.skipped")} value={counts.skipped} />
        <Tile label={t("dashboard.successRate")} value={`${data.successPercent.toFixed(1)} %`} />
        <Tile label={t("dashboard.pace")} value={t("dashboard.perMinute", { n: data.perMinute.toFixed(1) })} />
        <Tile
          label={t("dashboard.eta")}
          value={data.etaSecs === null ? t("dashboard.etaUnknown") : formatDuration(data.etaSecs * 1000)}
        />
        {data.windowOpensAt !== null ? <Tile label={t("dashboard.windowOpens")} value={formatDateTime(data.windowOpensAt)} /> : null}
      </div>

      <h3>{t("dashboard.waves")}</h3>
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
          {data.waves.map((w) => {
            const current = w.index === c.currentWave && !["completed", "cancelled"].includes(c.state);
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

      <h3>{t("dashboard.chart")}</h3>
      <ProgressChart history={data.history} />

      <h3>{t("dashboard.failures")}</h3>
      {data.failures.length === 0 ? (
        <p className="muted">{t("dashboard.noFailures")}</p>
      ) : (
        <ul className="failure-groups" aria-label={t("dashboard.failures")}>
          {data.failures.map((f) => (
            <li key={`${f.code}/${f.vendorCode ?? ""}/${f.message}`}>
              <strong>{t("dashboard.failureCount", { n: f.count })}</strong> — {f.message}
              {f.vendorCode ? <span className="error-code"> ({f.vendorCode})</span> : null}
              {f.hint ? <div className="error-hint">{f.hint}</div> : null}
              <div className="muted mono">{f.devices.join(", ")}</div>
            </li>
          ))}
        </ul>
      )}

      <CampaignDevices campaignId={id} live={isLive(c.state)} />

      {confirming ? (
        <ConfirmDialog
          title={t(confirming === "cancel" ? "dashboard.cancelTitle" : "dashboard.deleteTitle")}
          body={t(confirming === "cancel" ? "dashboard.cancelBody" : "dashboard.deleteBody")}
          confirmLabel={t(confirming === "cancel" ? "dashboard.cancel" : "dashboard.delete")}
          cancelLabel={t("dashboard.keep")}
          busy={act.isPending}
          onConfirm={() => act.mutate(confirming)}
          onCancel={() => setConfirming(null)}
        />
      ) : null}
    </div>
  );
}
