import { useState, type KeyboardEvent } from "react";

import type { JobView } from "../bindings/JobView";
import { CloudBadge } from "../components/CloudBadge";
import { ErrorMessage } from "../components/ErrorMessage";
import { JobHistory } from "../components/JobHistory";
import { ProgressBar } from "../components/ProgressBar";
import { useJobs } from "../hooks/useServerState";
import { t } from "../i18n";
import { formatBytesProgress, formatDateTime } from "../lib/format";

/** Firmware update jobs, newest first; live through the "jobs" change notices. A row opens its history. */
export function JobsView() {
  const jobs = useJobs();
  const [openJobId, setOpenJobId] = useState<number | null>(null);
  // The list is live: the panel always shows the newest copy of the job.
  const openJob = openJobId === null ? undefined : jobs.data?.find((job) => job.id === openJobId);

  const closeHistory = () => {
    const jobId = openJobId;
    setOpenJobId(null);
    if (jobId !== null) document.querySelector<HTMLElement>(`tr[data-job-id="${jobId}"]`)?.focus();
  };

  return (
    <div className={openJob ? "view jobs-view with-history" : "view jobs-view"}>
      <div className="jobs-main">
        <h2 className="view-title">{t("jobs.title")}</h2>
        {jobs.isPending ? <p role="status">{t("jobs.loading")}</p> : null}
        {jobs.error && !jobs.data ? <ErrorMessage error={jobs.error} onRetry={() => void jobs.refetch()} /> : null}
        {jobs.data && jobs.data.length === 0 ? <p className="empty-note">{t("jobs.empty")}</p> : null}
        {jobs.data && jobs.data.length > 0 ? (
          <div className="table-scroll">
            <table className="data-table jobs-table" aria-label={t("jobs.tableLabel")}>
              <thead>
                <tr>
                  <th scope="col">{t("jobs.device")}</th>
                  <th scope="col">{t("jobs.versions")}</th>
                  <th scope="col">{t("jobs.phase")}</th>
                  <th scope="col">{t("jobs.progress")}</th>
                  <th scope="col">{t("jobs.bytes")}</th>
                  <th scope="col">{t("jobs.state")}</th>
                  <th scope="col">{t("jobs.started")}</th>
                </tr>
              </thead>
              <tbody>
                {jobs.data.map((job) => (
                  <JobRow key={job.id} job={job} open={job.id === openJobId} onOpen={() => setOpenJobId(job.id)} />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
      {openJob ? <JobHistory key={openJob.id} job={openJob} onClose={closeHistory} /> : null}
    </div>
  );
}

function JobRow({ job, open, onOpen }: { job: JobView; open: boolean; onOpen: () => void }) {
  const failed = job.state === "failed" || job.state === "cancelled";
  const onKeyDown = (event: KeyboardEvent<HTMLTableRowElement>) => {
    if (event.key === "Enter" && event.target === event.currentTarget) {
      event.preventDefault();
      onOpen();
    }
  };
  return (
    <>
      <tr
        data-job-id={job.id}
        className={`job-row job-${job.state}${open ? " open" : ""}`}
        tabIndex={0}
        aria-label={t("jobs.openHistory", { device: job.deviceId })}
        aria-expanded={open}
        onClick={onOpen}
        onKeyDown={onKeyDown}
      >
        <td>
          <CloudBadge cloud={job.cloud} /> <span className="mono">{job.deviceId}</span>
        </td>
        <td className="mono">
          {job.fromVersion ?? "?"} → {job.toVersion ?? "?"}
        </td>
        <td>{t(`phase.${job.phase}`)}</td>
        <td className="cell-progress">
          <ProgressBar percent={job.percent} label={t("jobs.progressLabel", { device: job.deviceId })} failed={failed} />
          <span className="percent">
            {t("detail.phasePercent", { phase: t(`phase.${job.phase}`), percent: String(job.percent) })}
          </span>
        </td>
        <td className="mono">{job.total > 0 ? formatBytesProgress(job.transferred, job.total) : "—"}</td>
        <td>
          <span className={`state-tag state-${job.state}`}>{t(`state.${job.state}`)}</span>
        </td>
        <td>{formatDateTime(job.startedAt)}</td>
      </tr>
      {job.error ? (
        <tr className="job-error-row">
          <td colSpan={7}>
            <ErrorMessage error={job.error} live={false} />
          </td>
        </tr>
      ) : null}
    </>
  );
}
