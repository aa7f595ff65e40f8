import type { JobView } from "../bindings/JobView";
import { CloudBadge } from "../components/CloudBadge";
import { ErrorMessage } from "../components/ErrorMessage";
import { ProgressBar } from "../components/ProgressBar";
import { useJobs } from "../hooks/useServerState";
import { t } from "../i18n";
import { formatBytesProgress, formatDateTime } from "../lib/format";

/** Firmware update jobs, newest first; live through the "jobs" change notices. */
export function JobsView() {
  const jobs = useJobs();
  return (
    <div className="view jobs-view">
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
                <JobRow key={job.id} job={job} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function JobRow({ job }: { job: JobView }) {
  const failed = job.state === "failed" || job.state === "cancelled";
  return (
    <>
      <tr data-job-id={job.id} className={`job-row job-${job.state}`}>
        <td>
          <CloudBadge cloud={job.cloud} /> <span className="mono">{job.deviceId}</span>
        </td>
        <td className="mono">
          {job.fromVersion ?? "?"} → {job.toVersion ?? "?"}
        </td>
        <td>{t(`phase.${job.phase}`)}</td>
        <td className="cell-progress">
          <ProgressBar percent={job.percent} label={t("jobs.progressLabel", { device: job.deviceId })} failed={failed} />
          <span className="percent">{job.percent} %</span>
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
