import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, type KeyboardEvent } from "react";

import { jobEvents } from "../api";
import type { ApiError } from "../bindings/ApiError";
import type { JobEvent } from "../bindings/JobEvent";
import type { JobView } from "../bindings/JobView";
import { useNow } from "../hooks/useNow";
import { t } from "../i18n";
import { formatBytesProgress, formatDateTime, formatDuration, formatTime } from "../lib/format";
import { queryKeys } from "../queryKeys";
import { ErrorMessage } from "./ErrorMessage";

interface Props {
  job: JobView;
  onClose: () => void;
}

function isActive(job: JobView): boolean {
  return job.state === "starting" || job.state === "running";
}

/** One job's history: its summary, then every recorded event. Escape closes it. */
export function JobHistory({ job, onClose }: Props) {
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    closeRef.current?.focus();
  }, []);
  // Refetched on every "jobs" change notice (the key sits under "jobs").
  const events = useQuery<JobEvent[], ApiError>({
    queryKey: queryKeys.jobEvents(job.id),
    queryFn: () => jobEvents(job.id),
  });
  const running = isActive(job);
  const now = useNow(1_000);
  const duration =
    job.finishedAt !== null
      ? formatDuration(job.finishedAt - job.startedAt)
      : running
        ? t("jobs.runningFor", { duration: formatDuration(now - job.startedAt) })
        : t("jobs.noValue");

  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    }
  };

  const titleId = "job-history-title";
  return (
    <aside className="history-panel" role="dialog" aria-modal="false" aria-labelledby={titleId} onKeyDown={onKeyDown}>
      <div className="detail-head">
        <h2 id={titleId}>{t("jobs.historyTitle", { device: job.deviceId })}</h2>
        <button
          ref={closeRef}
          type="button"
          className="icon-button"
          aria-label={t("jobs.historyClose")}
          title={t("jobs.historyCloseTitle")}
          onClick={onClose}
        >
          ✕
        </button>
      </div>
      <dl className="info-list job-summary">
        <div>
          <dt>{t("jobs.started")}</dt>
          <dd>{formatDateTime(job.startedAt)}</dd>
        </div>
        <div>
          <dt>{t("jobs.duration")}</dt>
          <dd>{duration}</dd>
        </div>
        <div>
          <dt>{t("jobs.bytes")}</dt>
          <dd className="mono">{job.total > 0 ? formatBytesProgress(job.transferred, job.total) : t("jobs.noValue")}</dd>
        </div>
        <div>
          <dt>{t("jobs.finalState")}</dt>
          <dd>
            <span className={`state-tag state-${job.state}`}>{t(`state.${job.state}`)}</span>
            {" · "}
            {t("detail.phasePercent", { phase: t(`phase.${job.phase}`), percent: String(job.percent) })}
          </dd>
        </div>
      </dl>
      {job.error ? <ErrorMessage error={job.error} live={false} /> : null}
      <h3>{t("jobs.historyEvents")}</h3>
      {events.isPending ? <p role="status">{t("jobs.historyLoading")}</p> : null}
      {events.error && !events.data ? <ErrorMessage error={events.error} onRetry={() => void events.refetch()} /> : null}
      {events.data && events.data.length === 0 ? <p className="empty-note">{t("jobs.historyEmpty")}</p> : null}
      {events.data && events.data.length > 0 ? (
        <table className="data-table job-events" aria-label={t("jobs.historyLabel")}>
          <thead>
            <tr>
              <th scope="col">{t("jobs.eventTime")}</th>
              <th scope="col">{t("jobs.eventPhase")}</th>
              <th scope="col">{t("jobs.eventPercent")}</th>
              <th scope="col">{t("jobs.eventBytes")}</th>
              <th scope="col">{t("jobs.eventMessage")}</th>
            </tr>
          </thead>
          <tbody>
            {events.data.map((event, i) => (
              <tr key={`${event.at}-${i}`}>
                <td title={formatDateTime(event.at)}>{formatTime(event.at)}</td>
                <td>{t(`phase.${event.sample.phase}`)}</td>
                <td>{event.sample.percent} %</td>
                <td className="mono">
                  {event.sample.total > 0
                    ? formatBytesProgress(event.sample.transferred, event.sample.total)
                    : t("jobs.noValue")}
                </td>
                <td>{event.message ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </aside>
  );
}
