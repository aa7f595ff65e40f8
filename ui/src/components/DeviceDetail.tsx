import { useEffect, useLayoutEffect, useRef, type KeyboardEvent, type ReactNode } from "react";

import type { Device } from "../bindings/Device";
import { useJobs } from "../hooks/useServerState";
import { useVicohomeUpdate } from "../hooks/useVicohomeUpdate";
import { useVicohomeUpdatePlan } from "../hooks/useVicohomeUpdatePlan";
import { t } from "../i18n";
import { cloudLabel, formatBytesProgress, formatDateTime } from "../lib/format";
import { ErrorMessage } from "./ErrorMessage";
import { OnenetUpdate } from "./OnenetUpdate";
import { ProgressBar } from "./ProgressBar";
import { Spinner } from "./Spinner";

interface Props {
  device: Device;
  accountName?: string;
  onClose: () => void;
}

/** Every field of one device, and for Vicohome cameras the firmware update. Escape closes it. */
export function DeviceDetail({ device, accountName, onClose }: Props) {
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    closeRef.current?.focus();
  }, [device.id]);

  const onKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    }
  };

  const none = t("detail.notAvailable");
  const titleId = "device-detail-title";
  return (
    <aside className="detail-panel" role="dialog" aria-modal="false" aria-labelledby={titleId} onKeyDown={onKeyDown}>
      <div className="detail-head">
        <h2 id={titleId}>{device.name}</h2>
        <button
          ref={closeRef}
          type="button"
          className="icon-button"
          aria-label={t("detail.close")}
          title={t("detail.closeTitle")}
          onClick={onClose}
        >
          ✕
        </button>
      </div>
      <dl className="detail-fields">
        <Field label={t("detail.cloud")}>{cloudLabel(device.cloud)}</Field>
        {accountName ? <Field label={t("detail.account")}>{accountName}</Field> : null}
        <Field label={t("detail.id")}>
          <span className="mono">{device.id}</span>
        </Field>
        <Field label={t("detail.model")}>{device.model || none}</Field>
        <Field label={t("detail.manufacturer")}>{device.manufacturer ?? none}</Field>
        {device.productKey ? (
          <Field label={t("detail.productKey")}>
            <span className="mono">{device.productKey}</span>
          </Field>
        ) : null}
        {device.transport ? <Field label={t("detail.transport")}>{device.transport.toUpperCase()}</Field> : null}
        <Field label={t("detail.firmware")}>
          <span className="mono">{device.firmware}</span>
        </Field>
        <Field label={t("detail.newestFirmware")}>
          <span className="mono">{device.newestFirmware ?? none}</span>
        </Field>
        <Field label={t("detail.status")}>{device.online ? t("status.online") : t("status.offline")}</Field>
        <Field label={t("detail.battery")}>{device.battery === null ? none : `${device.battery} %`}</Field>
        <Field label={t("detail.signal")}>{device.signal === null ? none : String(device.signal)}</Field>
        <Field label={t("detail.refreshedAt")}>{formatDateTime(device.refreshedAt)}</Field>
      </dl>
      {device.cloud === "vicohome" ? <VicohomeUpdate device={device} /> : null}
      {device.cloud === "onenet" ? <OnenetUpdate device={device} /> : null}
    </aside>
  );
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="detail-field">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function VicohomeUpdate({ device }: { device: Device }) {
  const update = useVicohomeUpdate(device);
  // A job started earlier (or from otactl) still shows here, live through the "jobs" change notices.
  const jobs = useJobs();
  const earlier = jobs.data?.find(
    (j) => j.cloud === "vicohome" && j.accountId === device.accountId && j.deviceId === device.id,
  );
  const job = update.job ?? earlier ?? null;
  const running = job !== null && (job.state === "starting" || job.state === "running");
  const failed = job !== null && (job.state === "failed" || job.state === "cancelled");
  const busy = update.starting || running;
  // Nothing to offer once Rust says the camera runs the newest firmware (also right after an update
  // finished); until it has answered, the update is offered and the cloud answers for itself.
  const { plan } = useVicohomeUpdatePlan([device]);
  const upToDate = !busy && (plan?.leftOut.some((l) => l.reason.kind === "up_to_date") ?? false);
  // When the finished update replaces the focused button with this note, the focus would fall to the page,
  // out of the details (Escape and Tab would no longer reach them): it moves to the note instead.
  const upToDateRef = useRef<HTMLParagraphElement>(null);
  useLayoutEffect(() => {
    if (upToDate && (document.activeElement === null || document.activeElement === document.body)) {
      upToDateRef.current?.focus();
    }
  }, [upToDate]);
  return (
    <section className="detail-update" aria-label={t("detail.updateFirmware")}>
      {upToDate ? (
        <p ref={upToDateRef} className="up-to-date" role="status" tabIndex={-1}>
          {t("detail.upToDate", { version: device.firmware })}
        </p>
      ) : (
        <>
          <p className="muted">{t("detail.updateNote")}</p>
          {/* aria-disabled, not disabled: disabling the focused button would drop the keyboard focus to the
              page, out of the details, where Escape and Tab no longer reach them. */}
          <button
            type="button"
            className="button primary"
            onClick={() => {
              if (!busy) void update.start();
            }}
            aria-disabled={busy}
            aria-busy={update.starting}
          >
            {update.starting ? <Spinner /> : null}
            {t("detail.updateFirmware")}
          </button>
        </>
      )}
      {update.error ? <ErrorMessage error={update.error} /> : null}
      {job ? (
        <div className="job-progress" role="group" aria-label={t("detail.updateProgress")}>
          <div className="job-progress-line">
            <span>
              {t("detail.phasePercent", { phase: t(`phase.${job.phase}`), percent: String(job.percent) })}
            </span>
            <span className="muted">{job.total > 0 ? formatBytesProgress(job.transferred, job.total) : null}</span>
          </div>
          <ProgressBar percent={job.percent} label={t("detail.updateProgress")} failed={failed} />
          {job.error ? <ErrorMessage error={job.error} /> : null}
        </div>
      ) : null}
    </section>
  );
}
