import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { actOnCampaign, type CampaignAction } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { CampaignState } from "../bindings/CampaignState";
import type { CampaignView } from "../bindings/CampaignView";
import { isLive, useCampaignDashboard } from "../hooks/useLibrary";
import { useNow } from "../hooks/useNow";
import { t, type MessageKey } from "../i18n";
import { cloudLabel, formatDateTime, formatDuration, formatTime } from "../lib/format";
import { queryKeys } from "../queryKeys";
import { CampaignDevices } from "./CampaignDevices";
import { ConfirmDialog } from "./ConfirmDialog";
import { ErrorMessage } from "./ErrorMessage";
import { FailureGroups } from "./FailureGroups";
import { ProgressChart } from "./ProgressChart";
import { Tile } from "./Tile";
import { WaveTable } from "./WaveTable";

export const campaignStateLabel = (state: CampaignState) => t(`campaignState.${state}` as MessageKey);

const isFinished = (state: CampaignState) => state === "completed" || state === "aborted" || state === "cancelled";

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

/** Everything about one campaign: state and actions, counts, pace, waves, chart, failures, devices. */
export function CampaignDashboard({ id, onBack }: { id: number; onBack: () => void }) {
  const queryClient = useQueryClient();
  const dashboard = useCampaignDashboard(id);
  const now = useNow(15_000);
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
      {data.runBy ? (
        <p className="muted" aria-label={t("dashboard.runByLabel")}>
          {t("dashboard.runBy", {
            program: data.runBy.program,
            pid: String(data.runBy.pid),
            host: data.runBy.host,
            until: formatTime(data.runBy.expiresAt),
          })}
        </p>
      ) : null}
      {c.settings.startAt !== undefined && c.settings.startAt > now && !isFinished(c.state) ? (
        <p className="muted">{t("dashboard.startsAt", { time: formatDateTime(c.settings.startAt) })}</p>
      ) : null}
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
      <WaveTable waves={data.waves} campaign={c} />

      <h3>{t("dashboard.chart")}</h3>
      <ProgressChart history={data.history} />

      <h3>{t("dashboard.failures")}</h3>
      <FailureGroups failures={data.failures} />

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
