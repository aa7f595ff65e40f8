//! The per-device task of a campaign runner: read the device's status, start it only when nothing is
//! under way (right before the request, checking the runner still holds the lease), then follow it to
//! the end, reporting to the coordinator as it goes. Requests of every task share one rate limiter.
//! Told to stop (the runner's stop signal), a task ends at its next wait — a request already sent gets its
//! answer — and leaves its device in flight for the next runner, which reads its status first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::campaign::lease::HeldLease;
use crate::campaign::model::{CampaignDeviceState, CampaignRules};
use crate::campaign::rules;
use crate::cloud::{CloudSession, RemoteUpdate, UpdateTarget};
use crate::error::{ApiError, ErrorKind};
use crate::jobs::JobOptions;
use crate::library::FirmwareEntry;
use crate::model::Cloud;
use crate::store::{ClaimedDevice, DeviceUpdate};

/// A campaign follows thousands of devices: each is read at most 20 times a second, however fast a
/// simulator's clock runs (single-device jobs may poll faster; at 2 000× a camera's whole update is ~20 ms,
/// so one follow read a device is what the campaign bench's rate-cap baseline assumes).
const MIN_FOLLOW_INTERVAL: Duration = Duration::from_millis(50);

/// Spaces requests out to at most `rate` a second across every task of a campaign.
pub struct RateLimiter {
    interval: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl RateLimiter {
    pub fn new(per_second: f64) -> Self {
        let per_second = if per_second.is_finite() && per_second > 0.0 {
            per_second
        } else {
            1.0
        };
        Self {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// What a device task tells the coordinator while it works.
pub(super) enum Report {
    Progress(DeviceUpdate),
    /// A start was sent, with the cloud's answer (for the audit log); `recovered` when it was sent by a
    /// runner that stopped before recording it, and found by reading the device's status.
    Started {
        cloud: Cloud,
        account_id: i64,
        device_id: String,
        result: Result<(), ApiError>,
        recovered: bool,
    },
    /// A campaign rule failed the device (device timeout, verified success): audited with the batch.
    RuleFailed {
        cloud: Cloud,
        device_id: String,
        /// The audit action, e.g. `campaign.device.timed_out`.
        action: &'static str,
        error: ApiError,
    },
}

/// Why a device task ended without the device's outcome being its own success.
pub(super) enum Halt {
    /// The runner was told to stop: nothing is recorded, the device stays in flight (`starting` or
    /// `running`) for the next runner.
    Stopped,
    /// The device's attempt failed.
    Failed(ApiError),
}

impl From<ApiError> for Halt {
    fn from(err: ApiError) -> Self {
        Halt::Failed(err)
    }
}

pub(super) struct DeviceCtx {
    pub(super) session: Arc<dyn CloudSession>,
    pub(super) limiter: Arc<RateLimiter>,
    pub(super) options: JobOptions,
    pub(super) reports: mpsc::UnboundedSender<Report>,
    pub(super) firmware: Arc<FirmwareEntry>,
    pub(super) lease: Arc<HeldLease>,
    pub(super) rules: CampaignRules,
    /// The runner's stop signal ([`super::RunnerControl::stop`]).
    pub(super) stop: CancellationToken,
}

impl DeviceCtx {
    /// Waits for `wait`, unless the runner is told to stop first. Only waits are cut short, never a
    /// request: one already sent gets its answer.
    async fn unless_stopped<T>(
        &self,
        wait: impl std::future::Future<Output = T>,
    ) -> Result<T, Halt> {
        tokio::select! {
            biased;
            () = self.stop.cancelled() => Err(Halt::Stopped),
            done = wait => Ok(done),
        }
    }
}

/// Transient errors while reading a status are retried this many times before the device counts as
/// failed (a device briefly offline mid-update is not a failure).
const OBSERVE_ATTEMPTS: u32 = 4;
/// A device the cloud stops reporting on after it accepted the update, this many reads in a row, failed.
const IDLE_READS: u32 = 3;

/// A read of the cloud about one device (its update's status, its reported version) at the campaign's
/// request rate, with transient errors retried — after the pause the cloud asked for, else a doubling one —
/// up to [`OBSERVE_ATTEMPTS`] reads.
async fn read_with_retries<'a, T, F, Fut>(ctx: &'a DeviceCtx, read: F) -> Result<T, Halt>
where
    F: Fn(&'a dyn crate::cloud::FleetUpdates) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>> + 'a,
{
    let updates = ctx
        .session
        .fleet_updates()
        .ok_or_else(|| ApiError::internal("no update mechanism for this cloud"))?;
    let mut wait = ctx.options.poll_interval;
    let mut attempt = 0;
    loop {
        ctx.unless_stopped(ctx.limiter.acquire()).await?;
        match read(updates).await {
            Err(err) if err.code.is_transient() && attempt + 1 < OBSERVE_ATTEMPTS => {
                attempt += 1;
                let asked = err
                    .retry_after_secs
                    .map(|s| Duration::from_secs(u64::from(s)));
                let pause = asked.unwrap_or(wait).min(ctx.options.max_backoff);
                ctx.unless_stopped(tokio::time::sleep(pause)).await?;
                wait = (wait * 2).min(ctx.options.max_backoff);
            }
            other => return Ok(other?),
        }
    }
}

async fn observe(ctx: &DeviceCtx, target: &UpdateTarget) -> Result<RemoteUpdate, Halt> {
    read_with_retries(ctx, |updates| updates.observe(target)).await
}

fn progress(device: &ClaimedDevice, percent: u8, state: &str) -> Report {
    Report::Progress(DeviceUpdate::Progress {
        account_id: device.account_id,
        device_id: device.device_id.clone(),
        percent,
        remote_state: state.to_string(),
    })
}

/// Takes one device to the end of its update: Ok when it runs the version — with verified success (the
/// default), only once the cloud reports the target version in the device's details afterwards.
pub(super) async fn drive(ctx: Arc<DeviceCtx>, device: ClaimedDevice) -> Result<(), Halt> {
    update(&ctx, &device).await?;
    if !ctx.rules.verify_version {
        return Ok(());
    }
    let target = crate::campaign::update_target(
        &device.device_id,
        device.product_key.as_deref(),
        &device.model,
        &ctx.firmware,
    );
    match reported_version(&ctx, &target).await? {
        Some(version) if version == target.version => Ok(()),
        reported => Err(Halt::Failed(rule_failed(
            &ctx,
            &device,
            "campaign.device.version_not_confirmed",
            ApiError::new(
                ErrorKind::Device,
                format!(
                    "Version not confirmed (reports {}): the cloud called the update a success, but the device does not report {}.",
                    reported.as_deref().unwrap_or("no version"),
                    target.version
                ),
            )
            .with_hint("Check the device (it may have rolled back); retry the failed devices."),
        ))),
    }
}

/// At the end of its wave's bake, checks a device that succeeded still reports the target version; the
/// failure when it does not (a late failure). A device whose version cannot be read now is not failed.
pub(super) async fn recheck(ctx: &DeviceCtx, device: &ClaimedDevice) -> Option<ApiError> {
    let target = crate::campaign::update_target(
        &device.device_id,
        device.product_key.as_deref(),
        &device.model,
        &ctx.firmware,
    );
    match reported_version(ctx, &target).await {
        Ok(Some(version)) if version == target.version => None,
        Ok(reported) => Some(
            ApiError::new(
                ErrorKind::Device,
                format!(
                    "Version not confirmed after the bake (reports {}): it no longer reports {}.",
                    reported.as_deref().unwrap_or("no version"),
                    target.version
                ),
            )
            .with_hint("The device may have rolled back; check it before the next wave."),
        ),
        Err(Halt::Failed(err)) => {
            tracing::warn!(device = %device.device_id, error = %err.display_line(), "could not re-check the version after the bake");
            None
        }
        // The coordinator sees the stop and leaves the re-check to the next runner.
        Err(Halt::Stopped) => None,
    }
}

/// Tells the coordinator a campaign rule failed the device (for the audit log); answers the error.
fn rule_failed(
    ctx: &DeviceCtx,
    device: &ClaimedDevice,
    action: &'static str,
    error: ApiError,
) -> ApiError {
    let _ = ctx.reports.send(Report::RuleFailed {
        cloud: ctx.firmware.cloud,
        device_id: device.device_id.clone(),
        action,
        error: error.clone(),
    });
    error
}

/// The version the device's details report now, with transient errors retried as status reads are.
async fn reported_version(ctx: &DeviceCtx, target: &UpdateTarget) -> Result<Option<String>, Halt> {
    read_with_retries(ctx, |updates| updates.reported_version(target)).await
}

/// The update itself: read the status, start once if nothing runs, follow to the end.
async fn update(ctx: &Arc<DeviceCtx>, device: &ClaimedDevice) -> Result<(), Halt> {
    let ctx = ctx.as_ref();
    let updates = ctx
        .session
        .fleet_updates()
        .ok_or_else(|| ApiError::internal("no update mechanism for this cloud"))?;
    let target = crate::campaign::update_target(
        &device.device_id,
        device.product_key.as_deref(),
        &device.model,
        &ctx.firmware,
    );
    let recovering = device.previous != CampaignDeviceState::Pending;
    let first = observe(ctx, &target).await?;
    // A start sent by a runner that was killed before it could record the answer: record it now.
    if device.previous == CampaignDeviceState::Starting && first != RemoteUpdate::Idle {
        let _ = ctx.reports.send(Report::Started {
            cloud: ctx.firmware.cloud,
            account_id: device.account_id,
            device_id: device.device_id.clone(),
            result: match &first {
                RemoteUpdate::Failed(err) => Err(err.clone()),
                _ => Ok(()),
            },
            recovered: true,
        });
    }
    match first {
        RemoteUpdate::Succeeded => return Ok(()),
        RemoteUpdate::Updating { percent, state } => {
            let _ = ctx.reports.send(progress(device, percent, &state));
        }
        // Recovering a device whose start was sent: its failure is this attempt's outcome.
        RemoteUpdate::Failed(err) if recovering => return Err(err.into()),
        RemoteUpdate::Idle | RemoteUpdate::Failed(_) => {
            ctx.unless_stopped(ctx.limiter.acquire()).await?;
            // Checked last, right before the request: a runner that lost the campaign sends nothing, and
            // one told to stop starts nothing more.
            ctx.unless_stopped(ctx.lease.ready_to_send()).await??;
            if ctx.stop.is_cancelled() {
                return Err(Halt::Stopped);
            }
            let sent = updates.start(&target).await;
            let _ = ctx.reports.send(Report::Started {
                cloud: ctx.firmware.cloud,
                account_id: device.account_id,
                device_id: device.device_id.clone(),
                result: sent.as_ref().map(|_| ()).map_err(Clone::clone),
                recovered: false,
            });
            match sent {
                Ok(RemoteUpdate::Succeeded) => return Ok(()),
                Ok(RemoteUpdate::Failed(err)) => return Err(err.into()),
                Ok(RemoteUpdate::Updating { percent, state }) => {
                    let _ = ctx.reports.send(progress(device, percent, &state));
                }
                Ok(RemoteUpdate::Idle) => {
                    let _ = ctx.reports.send(progress(device, 0, "accepted"));
                }
                // A lost answer does not say the start failed: if the device is updating, it went through.
                Err(err) if err.code.is_transient() => match observe(ctx, &target).await {
                    Ok(RemoteUpdate::Updating { percent, state }) => {
                        let _ = ctx.reports.send(progress(device, percent, &state));
                    }
                    Ok(RemoteUpdate::Succeeded) => return Ok(()),
                    Err(Halt::Stopped) => return Err(Halt::Stopped),
                    _ => return Err(err.into()),
                },
                Err(err) => return Err(err.into()),
            }
        }
    }
    follow(ctx, device, &target).await
}

async fn follow(
    ctx: &DeviceCtx,
    device: &ClaimedDevice,
    target: &UpdateTarget,
) -> Result<(), Halt> {
    let deadline = Instant::now() + ctx.options.deadline;
    let mut idle_reads = 0;
    let mut last: Option<(u8, String)> = None;
    loop {
        // Device timeout: counted from the claim of this attempt (kept across restarts).
        if rules::device_timed_out(&ctx.rules, device.started_at, crate::model::now_ms()) {
            let limit = rules::format_duration(u64::from(
                ctx.rules.device_timeout_secs.unwrap_or_default(),
            ));
            return Err(Halt::Failed(rule_failed(
                ctx,
                device,
                "campaign.device.timed_out",
                ApiError::new(
                    ErrorKind::Device,
                    format!("Timed out: still in progress {limit} after its start (the campaign's device timeout)."),
                )
                .with_hint("Check the device; retry the failed devices once it is reachable."),
            )));
        }
        if Instant::now() >= deadline {
            return Err(Halt::Failed(
                ApiError::new(
                    ErrorKind::Offline,
                    format!(
                        "The device did not finish the update within {} minutes.",
                        ctx.options.deadline.as_secs().div_ceil(60)
                    ),
                )
                .with_hint(
                    "Check that it is powered and online; retry the failed devices afterwards.",
                ),
            ));
        }
        ctx.unless_stopped(tokio::time::sleep(
            ctx.options.poll_interval.max(MIN_FOLLOW_INTERVAL)
                + crate::jobs::jitter(ctx.options.jitter),
        ))
        .await?;
        match observe(ctx, target).await? {
            RemoteUpdate::Succeeded => return Ok(()),
            RemoteUpdate::Failed(err) => return Err(err.into()),
            RemoteUpdate::Updating { percent, state } => {
                idle_reads = 0;
                let now = (percent, state);
                if last.as_ref() != Some(&now) {
                    let _ = ctx.reports.send(progress(device, now.0, &now.1));
                    last = Some(now);
                }
            }
            RemoteUpdate::Idle => {
                idle_reads += 1;
                if idle_reads >= IDLE_READS {
                    return Err(Halt::Failed(
                        ApiError::new(
                            ErrorKind::Retryable,
                            "The cloud accepted the update but no longer reports it running.",
                        )
                        .with_hint(
                            "Retry the device; its status is read before anything is sent again.",
                        ),
                    ));
                }
            }
        }
    }
}
