import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { actOnCampaign, type CampaignAction } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { CampaignState } from "../bindings/CampaignState";
import type { CampaignView } from "../bindings/CampaignView";
import type { CampaignWait } from "../bindings/CampaignWait";
import { useCohorts } from "../hooks/useCohorts";
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
export function actionsFor(campaign: Pick<CampaignView, "state" | "counts" | "waiting" | "rules" | "closed">): CampaignAction[] {
  const actions: CampaignAction[] = [];
  if (campaign.state === "awaiting_approval") actions.push("approve");
  if (campaign.waiting?.kind === "awaiting_wave_approval") actions.push("approve_wave");
  if (campaign.state === "ready") actions.push("start");
  if (campaign.state === "running") actions.push("pause");
  if (campaign.state === "paused") actions.push("resume");
  if (campaign.rules.continuous && !campaign.closed && (campaign.state === "running" || campaign.state === "paused"))
    actions.push("close");
  if (campaign.state !== "cancelled" && campaign.counts.failed > 0) actions.push("retry_failed");
  if (["awaiting_approval", "ready", "running", "paused"].includes(campaign.state)) actions.push("cancel");
  if (campaign.state !== "running" && campaign.state !== "paused" && campaign.counts.inFlight === 0) actions.push("delete");
  return actions;
}

const ACTION_LABELS: Record<CampaignAction, MessageKey> = {
  approve: "dashboard.approve",
  approve_wave: "dashboard.approveWave",
  close: "dashboard.close",
  start: "dashboard.start",
  pause: "dashboard.pause",
  resume: "dashboard.resume",
  cancel: "dashboard.cancel",
  retry_failed: "dashboard.retry",
  delete: "dashboard.delete",
};

/** What a rule holds the campaign for now, in words. */
export function waitingText(waiting: CampaignWait): string {
  switch (waiting.kind) {
    case "awaiting_approval":
      return t("dashboard.waitApproval");
    case "awaiting_wave_approval":
      return t("dashboard.waitWaveApproval", { n: waiting.wave + 1 });
    case "baking":
      return t("dashboard.waitBaking", { n: waiting.wave + 1, time: formatDateTime(waiting.until) });
    case "waiting_for_devices":
      return t("dashboard.waitDevices");
  }
}

/** The rules the campaign was created with, in one line ("Bake 30 min · manual gate · …"). */
export function rulesText(campaign: Pick<CampaignView, "rules" | "approvedBy" | "closed">): string {
  const r = campaign.rules;
  const parts: string[] = [];
  if (r.bakeSecs > 0) parts.push(t("rules.bake", { time: formatDuration(r.bakeSecs * 1000) }));
  if (r.gate === "manual") parts.push(t("rules.manualGate"));
  // Absent or null: no per-device timeout (Rust sends null for None).
  if (typeof r.deviceTimeoutSecs === "number") parts.push(t("rules.deviceTimeout", { time: formatDuration(r.deviceTimeoutSecs * 1000) }));
  parts.push(t(r.verifyVersion ? "rules.verified" : "rules.notVerified"));
  if (r.requireApproval)
    parts.push(campaign.approvedBy ? t("rules.approvedBy", { user: campaign.approvedBy }) : t("rules.needsApproval"));
  if (r.continuous) parts.push(t(campaign.closed ? "rules.closed" : "rules.continuous"));
  return parts.join(" · ");
}

/** Everything about one campaign: state and actions, counts, pace, waves, chart, failures, devices. */
export function CampaignDashboard({ id, onBack }: { id: number; onBack: () => void }) {
  const queryClient = useQueryClient();
  const dashboard = useCampaignDashboard(id);
  const cohorts = useCohorts();
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
      {c.cohortId !== null ? (
        <p className="muted">
          {t("dashboard.cohort", { name: cohorts.data?.find((k) => k.id === c.cohortId)?.name ?? `#${c.cohortId}` })}
        </p>
      ) : null}
      <p className="muted" aria-label={t("dashboard.rulesLabel")}>
        {rulesText(c)}
      </p>
      {c.reason ? <p className="campaign-reason">{c.reason}</p> : null}
      {c.waiting && !isFinished(c.state) ? (
        <p className="campaign-waiting" role="status" aria-label={t("dashboard.waitingLabel")}>
          {waitingText(c.waiting)}
        </p>
      ) : null}
      {data.runBy ? (
        <p className="muted" aria-label={t("dashboard.runByLabel")}>
          {t("dashboard.runBy", {
            program: data.runBy.program,
            pid: String(data.runBy.pid),
            host: data.runBy.host,
            until: formatTime(data.runBy.expiresAt),
          })}
        </p>
      ) : c.state === "running" ? (
        <p className="muted" aria-label={t("dashboard.runByLabel")}>
          {t("dashboard.noRunner")}
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
