import { useQuery } from "@tanstack/react-query";
import { useId, useState, type ReactNode } from "react";

import { onenetResultCodes, toApiError } from "../api";
import type { Device } from "../bindings/Device";
import type { OnenetDownloadProgress } from "../bindings/OnenetDownloadProgress";
import type { OnenetResultCode } from "../bindings/OnenetResultCode";
import type { OnenetTask } from "../bindings/OnenetTask";
import type { OnenetTaskType } from "../bindings/OnenetTaskType";
import { useOnenetUpdate } from "../hooks/useOnenetUpdate";
import { t } from "../i18n";
import { formatSize } from "../lib/format";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";
import { ProgressBar } from "./ProgressBar";
import { Spinner } from "./Spinner";

/** Check → download (pause / resume) → report for one OneNET device, acting on its behalf. */
export function OnenetUpdate({ device }: { device: Device }) {
  const update = useOnenetUpdate(device);
  const [taskType, setTaskType] = useState<OnenetTaskType>("application");
  const typeId = useId();
  const task = update.check?.task ?? null;
  const downloading = update.busy === "downloading";
  const saved = update.check?.savedBytes ?? 0;

  return (
    <section className="detail-update" aria-label={t("onenet.section")}>
      <p className="muted">{t("onenet.note")}</p>
      <div className="form-row">
        <label htmlFor={typeId}>{t("onenet.taskType")}</label>
        <select
          id={typeId}
          value={taskType}
          onChange={(e) => setTaskType(e.target.value as OnenetTaskType)}
          disabled={update.busy !== null}
        >
          <option value="application">{t("onenet.typeApplication")}</option>
          <option value="module">{t("onenet.typeModule")}</option>
        </select>
      </div>
      <button
        type="button"
        className="button primary"
        onClick={() => void update.runCheck(taskType)}
        disabled={update.busy !== null}
        aria-busy={update.busy === "checking"}
      >
        {update.busy === "checking" ? <Spinner /> : null}
        {update.busy === "checking" ? t("onenet.checking") : t("onenet.check")}
      </button>
      {update.check && !task ? (
        <p role="status">{t("onenet.noTask")}</p>
      ) : null}
      {task ? <TaskFacts task={task} /> : null}
      {task ? (
        <div className="button-row">
          {downloading ? (
            <button type="button" className="button" onClick={() => void update.pause()}>
              {t("onenet.pause")}
            </button>
          ) : (
            <button
              type="button"
              className="button primary"
              onClick={() => void update.download()}
              disabled={update.busy !== null || update.outcome !== null}
            >
              {saved > 0 ? t("onenet.resume") : t("onenet.download")}
            </button>
          )}
        </div>
      ) : null}
      {task && saved > 0 && !downloading && !update.outcome ? (
        <p className="muted">{t("onenet.savedPart", { saved: formatSize(saved) })}</p>
      ) : null}
      {update.progress ? <DownloadProgress progress={update.progress} /> : null}
      {update.outcome ? <p className="muted">{t("onenet.saved", { path: update.outcome.path })}</p> : null}
      {task ? (
        <ReportForm
          disabled={update.busy !== null}
          sending={update.busy === "reporting"}
          onReport={(code) => void update.report(code)}
        />
      ) : null}
      {update.answer ? (
        <p role="status" aria-label={t("onenet.reportAnswer")} className={update.answer.accepted ? "ok-text" : "warn-text"}>
          {update.answer.message}
        </p>
      ) : null}
      {update.error ? <ErrorMessage error={update.error} /> : null}
    </section>
  );
}

function TaskFacts({ task }: { task: OnenetTask }) {
  const none = t("detail.notAvailable");
  const opt = (v: number | null) => (v === null ? none : String(v));
  return (
    <dl className="detail-fields" aria-label={t("onenet.task")}>
      <Fact label={t("onenet.target")}>
        <span className="mono">{task.targetVersion}</span>
      </Fact>
      <Fact label={t("onenet.size")}>{formatSize(task.size)}</Fact>
      <Fact label={t("onenet.md5")}>
        <span className="mono">{task.md5}</span>
      </Fact>
      <Fact label={t("onenet.package")}>
        {task.package === "diff" ? t("onenet.packageDiff") : t("onenet.packageFull")}
      </Fact>
      <Fact label={t("onenet.minSignal")}>{opt(task.minSignal)}</Fact>
      <Fact label={t("onenet.minPower")}>{task.minPower === null ? none : `${task.minPower} %`}</Fact>
      <Fact label={t("onenet.retries")}>
        {t("onenet.retriesValue", { retry: opt(task.retry), interval: opt(task.intervalSecs) })}
      </Fact>
    </dl>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="detail-field">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function DownloadProgress({ progress }: { progress: OnenetDownloadProgress }) {
  const percent = progress.total > 0 ? Math.floor((progress.received / progress.total) * 100) : 0;
  const parts = [`${formatSize(progress.received)} / ${formatSize(progress.total)}`];
  if (progress.bytesPerSec !== null) parts.push(t("onenet.rate", { rate: formatSize(progress.bytesPerSec) }));
  if (progress.etaSecs !== null) parts.push(t("onenet.eta", { secs: Math.ceil(progress.etaSecs) }));
  return (
    <div className="job-progress" role="group" aria-label={t("onenet.progress")}>
      <div className="job-progress-line">
        <span>{t(`onenet.phase.${progress.phase}`)}</span>
        <span className="muted">{parts.join(" · ")}</span>
      </div>
      <ProgressBar percent={percent} label={t("onenet.progress")} failed={progress.phase === "failed"} />
    </div>
  );
}

function ReportForm({
  disabled,
  sending,
  onReport,
}: {
  disabled: boolean;
  sending: boolean;
  onReport: (code: number) => void;
}) {
  const codes = useQuery({ queryKey: queryKeys.onenetResultCodes, queryFn: onenetResultCodes, staleTime: Infinity });
  const [code, setCode] = useState(201);
  const selectId = useId();
  const byStage = (stage: OnenetResultCode["stage"]) => (codes.data ?? []).filter((c) => c.stage === stage);
  return (
    <fieldset className="onenet-report">
      <legend>{t("onenet.report")}</legend>
      <label htmlFor={selectId}>{t("onenet.resultCode")}</label>
      <select id={selectId} value={code} onChange={(e) => setCode(Number(e.target.value))} disabled={disabled}>
        {(["download", "upgrade"] as const).map((stage) => (
          <optgroup key={stage} label={t(`onenet.stage.${stage}`)}>
            {byStage(stage).map((c) => (
              <option key={c.code} value={c.code}>
                {`${c.code} — ${c.meaning}`}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      <button type="button" className="button" onClick={() => onReport(code)} disabled={disabled} aria-busy={sending}>
        {sending ? <Spinner /> : null}
        {sending ? t("onenet.sending") : t("onenet.sendReport")}
      </button>
      {codes.error ? <ErrorMessage error={toApiError(codes.error)} /> : null}
    </fieldset>
  );
}
