import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";

import { quectelBleStatuses, toApiError } from "../api";
import type { QuectelBlePlan } from "../bindings/QuectelBlePlan";
import type { QuectelBleProgress } from "../bindings/QuectelBleProgress";
import type { QuectelPlanRow } from "../bindings/QuectelPlanRow";
import { useBluetoothUpdate } from "../hooks/useBluetoothUpdate";
import { t } from "../i18n";
import { formatSize } from "../lib/format";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";
import { ProgressBar } from "./ProgressBar";
import { Spinner } from "./Spinner";

interface Props {
  row: QuectelPlanRow;
  onClose: () => void;
  /** After each report the cloud accepted: the row's state moved. */
  onReported: () => void;
}

/** The Bluetooth flow of one device, step by step: plan → confirm → package → outcome. Escape closes it. */
export function BluetoothUpdate({ row, onClose, onReported }: Props) {
  const flow = useBluetoothUpdate(row.deviceKey, onReported);
  const closeRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  useEffect(() => {
    closeRef.current?.focus();
  }, []);
  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    }
  };
  const idle = flow.busy === null;
  const plan = flow.plan ?? null;

  return (
    <aside className="history-panel ble-panel" role="dialog" aria-modal="false" aria-labelledby={titleId} onKeyDown={onKeyDown}>
      <div className="detail-head">
        <h2 id={titleId}>{t("ble.title", { name: row.deviceName })}</h2>
        <button
          ref={closeRef}
          type="button"
          className="icon-button"
          aria-label={t("ble.close")}
          title={t("ble.closeTitle")}
          onClick={onClose}
        >
          ✕
        </button>
      </div>
      <p className="muted">{t("ble.note")}</p>

      <Step title={t("ble.step.fetch")}>
        <button type="button" className="button" onClick={() => void flow.fetchPlan()} disabled={!idle} aria-busy={flow.busy === "fetching"}>
          {flow.busy === "fetching" ? <Spinner /> : null}
          {flow.busy === "fetching" ? t("ble.fetching") : t("ble.fetch")}
        </button>
        {flow.plan === null ? <p role="status">{t("ble.noPlan")}</p> : null}
        {plan ? <PlanFacts plan={plan} /> : null}
      </Step>

      <Step title={t("ble.step.confirm")}>
        <button
          type="button"
          className="button"
          onClick={() => void flow.confirm()}
          disabled={!idle || !plan}
          aria-busy={flow.busy === "confirming"}
        >
          {flow.busy === "confirming" ? <Spinner /> : null}
          {flow.busy === "confirming" ? t("ble.confirming") : t("ble.confirm")}
        </button>
        {flow.confirmed ? (
          <p role="status" className="ok-text ble-confirmed">
            {flow.confirmed.message}
          </p>
        ) : null}
      </Step>

      <Step title={t("ble.step.download")}>
        <button
          type="button"
          className="button"
          onClick={() => void flow.download()}
          disabled={!idle || !plan || !flow.confirmed}
          aria-busy={flow.busy === "downloading"}
        >
          {flow.busy === "downloading" ? <Spinner /> : null}
          {flow.busy === "downloading" ? t("ble.downloading") : t("ble.download")}
        </button>
        {flow.progress ? <DownloadProgress progress={flow.progress} /> : null}
        {flow.saved ? <p className="muted ble-saved">{t("ble.saved", { path: flow.saved.path })}</p> : null}
      </Step>

      <Step title={t("ble.step.report")}>
        <OutcomeForm
          disabled={!idle || !flow.saved}
          sending={flow.busy === "reporting"}
          onReport={(code) => void flow.report(code)}
        />
        {flow.answer ? (
          <p
            role="status"
            aria-label={t("ble.answer")}
            className={flow.answer.status.failure ? "warn-text ble-answer" : "ok-text ble-answer"}
          >
            {flow.answer.message}
          </p>
        ) : null}
      </Step>

      {flow.error ? <ErrorMessage error={flow.error} /> : null}
    </aside>
  );
}

function Step({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section className="ble-step" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {children}
    </section>
  );
}

function PlanFacts({ plan }: { plan: QuectelBlePlan }) {
  const none = t("detail.notAvailable");
  return (
    <dl className="detail-fields" aria-label={t("ble.planLabel")}>
      <Fact label={t("ble.target")}>
        <span className="mono">{plan.targetVersion ?? none}</span>
      </Fact>
      <Fact label={t("ble.file")}>
        <span className="mono">{plan.fileName ?? none}</span>
      </Fact>
      <Fact label={t("ble.size")}>{plan.fileSize === null ? none : formatSize(plan.fileSize)}</Fact>
      <Fact label={t("ble.sha256")}>
        <span className="mono hash">{plan.fileSign ?? none}</span>
      </Fact>
      <Fact label={t("ble.component")}>{plan.componentNo ?? none}</Fact>
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

function DownloadProgress({ progress }: { progress: QuectelBleProgress }) {
  const bytes =
    progress.total !== null
      ? t("ble.bytes", {
          received: formatSize(progress.received),
          total: formatSize(progress.total),
          percent: progress.percent,
        })
      : t("ble.bytesUnknown", { received: formatSize(progress.received) });
  return (
    <div className="job-progress" role="group" aria-label={t("ble.progress")}>
      <div className="job-progress-line">
        <span>{t(`ble.phase.${progress.phase}`)}</span>
        <span className="muted">{bytes}</span>
      </div>
      <ProgressBar percent={progress.percent} label={t("ble.progress")} failed={progress.phase === "failed"} />
    </div>
  );
}

function OutcomeForm({
  disabled,
  sending,
  onReport,
}: {
  disabled: boolean;
  sending: boolean;
  onReport: (code: number) => void;
}) {
  const statuses = useQuery({ queryKey: queryKeys.quectelBleStatuses, queryFn: quectelBleStatuses, staleTime: Infinity });
  const outcomes = (statuses.data ?? []).filter((s) => s.outcome);
  const [code, setCode] = useState<number | null>(null);
  const chosen = code ?? outcomes.find((s) => !s.failure)?.code ?? null;
  const selectId = useId();
  return (
    <div className="ble-outcome">
      <label htmlFor={selectId}>{t("ble.outcome")}</label>
      <select
        id={selectId}
        value={chosen ?? ""}
        onChange={(e) => setCode(Number(e.target.value))}
        disabled={disabled || outcomes.length === 0}
      >
        {outcomes.map((s) => (
          <option key={s.code} value={s.code}>
            {`${s.code} — ${s.name}: ${s.meaning}`}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="button primary"
        onClick={() => chosen !== null && onReport(chosen)}
        disabled={disabled || chosen === null}
        aria-busy={sending}
      >
        {sending ? <Spinner /> : null}
        {sending ? t("ble.sending") : t("ble.sendOutcome")}
      </button>
      {statuses.error ? <ErrorMessage error={toApiError(statuses.error)} /> : null}
    </div>
  );
}
