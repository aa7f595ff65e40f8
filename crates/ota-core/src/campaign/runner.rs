//! The campaign runner: one coordinator per campaign and one task per device being updated.
//!
//! The coordinator claims due devices of the current wave in one transaction (rows become `starting`
//! before any start is sent), spawns a task per device up to the concurrency cap, writes what the tasks
//! report in batches, moves to the next wave when the current one ended within its failure threshold, and
//! stops the campaign when it did not. Each device task reads the device's status before it starts it:
//! a device already updating is followed, a device already on the version is done, so a runner killed at
//! any point and started again never starts a device twice and forgets none.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::model::{CampaignState, CampaignView, ThresholdAction};
use super::rules;
use crate::cloud::{CloudSession, RemoteUpdate, UpdateTarget};
use crate::console::{Console, DataKind};
use crate::error::{ApiError, ErrorKind};
use crate::jobs::JobOptions;
use crate::library::FirmwareEntry;
use crate::model::{now_ms, Cloud};
use crate::store::{AuditRecord, ClaimedDevice, DeviceUpdate};

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
enum Report {
    Progress(DeviceUpdate),
    /// A start was sent, with the cloud's answer (for the audit log); `recovered` when it was sent by a
    /// runner that stopped before recording it, and found by reading the device's status.
    Started {
        cloud: Cloud,
        device_id: String,
        result: Result<(), ApiError>,
        recovered: bool,
    },
}

struct DeviceCtx {
    session: Arc<dyn CloudSession>,
    limiter: Arc<RateLimiter>,
    options: JobOptions,
    reports: mpsc::UnboundedSender<Report>,
    firmware: Arc<FirmwareEntry>,
}

/// Transient errors while reading a status are retried this many times before the device counts as
/// failed (a device briefly offline mid-update is not a failure).
const OBSERVE_ATTEMPTS: u32 = 4;
/// A device the cloud stops reporting on after it accepted the update, this many reads in a row, failed.
const IDLE_READS: u32 = 3;

async fn observe(ctx: &DeviceCtx, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
    let updates = ctx
        .session
        .fleet_updates()
        .ok_or_else(|| ApiError::internal("no update mechanism for this cloud"))?;
    let mut wait = ctx.options.poll_interval;
    let mut attempt = 0;
    loop {
        ctx.limiter.acquire().await;
        match updates.observe(target).await {
            Err(err) if err.code.is_transient() && attempt + 1 < OBSERVE_ATTEMPTS => {
                attempt += 1;
                let asked = err
                    .retry_after_secs
                    .map(|s| Duration::from_secs(u64::from(s)));
                tokio::time::sleep(asked.unwrap_or(wait).min(ctx.options.max_backoff)).await;
                wait = (wait * 2).min(ctx.options.max_backoff);
            }
            other => return other,
        }
    }
}

fn progress(device: &ClaimedDevice, percent: u8, state: &str) -> Report {
    Report::Progress(DeviceUpdate::Progress {
        account_id: device.account_id,
        device_id: device.device_id.clone(),
        percent,
        remote_state: state.to_string(),
    })
}

/// Takes one device to the end of its update: Ok when it runs the version.
async fn drive(ctx: Arc<DeviceCtx>, device: ClaimedDevice) -> Result<(), ApiError> {
    let updates = ctx
        .session
        .fleet_updates()
        .ok_or_else(|| ApiError::internal("no update mechanism for this cloud"))?;
    let target = super::update_target(
        &device.device_id,
        device.product_key.as_deref(),
        &device.model,
        &ctx.firmware,
    );
    let recovering = device.previous != super::model::CampaignDeviceState::Pending;
    let first = observe(&ctx, &target).await?;
    // A start sent by a runner that was killed before it could record the answer: record it now.
    if device.previous == super::model::CampaignDeviceState::Starting && first != RemoteUpdate::Idle
    {
        let _ = ctx.reports.send(Report::Started {
            cloud: ctx.firmware.cloud,
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
            let _ = ctx.reports.send(progress(&device, percent, &state));
        }
        // Recovering a device whose start was sent: its failure is this attempt's outcome.
        RemoteUpdate::Failed(err) if recovering => return Err(err),
        RemoteUpdate::Idle | RemoteUpdate::Failed(_) => {
            ctx.limiter.acquire().await;
            let sent = updates.start(&target).await;
            let _ = ctx.reports.send(Report::Started {
                cloud: ctx.firmware.cloud,
                device_id: device.device_id.clone(),
                result: sent.as_ref().map(|_| ()).map_err(Clone::clone),
                recovered: false,
            });
            match sent {
                Ok(RemoteUpdate::Succeeded) => return Ok(()),
                Ok(RemoteUpdate::Failed(err)) => return Err(err),
                Ok(RemoteUpdate::Updating { percent, state }) => {
                    let _ = ctx.reports.send(progress(&device, percent, &state));
                }
                Ok(RemoteUpdate::Idle) => {
                    let _ = ctx.reports.send(progress(&device, 0, "accepted"));
                }
                // A lost answer does not say the start failed: if the device is updating, it went through.
                Err(err) if err.code.is_transient() => match observe(&ctx, &target).await {
                    Ok(RemoteUpdate::Updating { percent, state }) => {
                        let _ = ctx.reports.send(progress(&device, percent, &state));
                    }
                    Ok(RemoteUpdate::Succeeded) => return Ok(()),
                    _ => return Err(err),
                },
                Err(err) => return Err(err),
            }
        }
    }
    follow(&ctx, &device, &target).await
}

async fn follow(
    ctx: &DeviceCtx,
    device: &ClaimedDevice,
    target: &UpdateTarget,
) -> Result<(), ApiError> {
    let deadline = Instant::now() + ctx.options.deadline;
    let mut idle_reads = 0;
    let mut last: Option<(u8, String)> = None;
    loop {
        if Instant::now() >= deadline {
            return Err(ApiError::new(
                ErrorKind::Offline,
                format!(
                    "The device did not finish the update within {} minutes.",
                    ctx.options.deadline.as_secs().div_ceil(60)
                ),
            )
            .with_hint(
                "Check that it is powered and online; retry the failed devices afterwards.",
            ));
        }
        tokio::time::sleep(ctx.options.poll_interval + crate::jobs::jitter(ctx.options.jitter))
            .await;
        match observe(ctx, target).await? {
            RemoteUpdate::Succeeded => return Ok(()),
            RemoteUpdate::Failed(err) => return Err(err),
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
                    return Err(ApiError::new(
                        ErrorKind::Retryable,
                        "The cloud accepted the update but no longer reports it running.",
                    )
                    .with_hint(
                        "Retry the device; its status is read before anything is sent again.",
                    ));
                }
            }
        }
    }
}

/// Runs a campaign until it ends, pauses with nothing in flight, or is cancelled and its in-flight
/// devices have ended. Returns its final view.
pub async fn run(console: Arc<Console>, id: i64) -> Result<CampaignView, ApiError> {
    let store = console.store().clone();
    let view = store.campaign_view(id)?;
    let firmware = Arc::new(store.firmware(view.firmware_id)?);
    let settings = view.settings.clone();
    let limiter = Arc::new(RateLimiter::new(settings.requests_per_second));
    let options = console.job_options().clone();
    let (reports_tx, mut reports_rx) = mpsc::unbounded_channel::<Report>();
    let mut sessions: HashMap<i64, Arc<dyn CloudSession>> = HashMap::new();
    let mut tasks: JoinSet<(ClaimedDevice, Result<(), ApiError>)> = JoinSet::new();
    let tick =
        (options.poll_interval / 4).clamp(Duration::from_millis(20), Duration::from_millis(250));
    let mut last_sample = Instant::now() - Duration::from_secs(10);
    let mut dirty = true;

    let launch = |device: ClaimedDevice,
                  tasks: &mut JoinSet<(ClaimedDevice, Result<(), ApiError>)>,
                  sessions: &mut HashMap<i64, Arc<dyn CloudSession>>|
     -> Result<(), ApiError> {
        let session = match sessions.get(&device.account_id) {
            Some(s) => s.clone(),
            None => {
                let account = store.account(device.account_id)?;
                let s = console.session(&account)?;
                sessions.insert(device.account_id, s.clone());
                s
            }
        };
        let ctx = Arc::new(DeviceCtx {
            session,
            limiter: limiter.clone(),
            options: options.clone(),
            reports: reports_tx.clone(),
            firmware: firmware.clone(),
        });
        tasks.spawn(async move {
            let result = drive(ctx, device.clone()).await;
            (device, result)
        });
        Ok(())
    };

    // Devices a previous runner left in flight: their status is read first, nothing is sent blindly.
    for device in store.in_flight_devices(id)? {
        launch(device, &mut tasks, &mut sessions)?;
    }

    let finished = |device: ClaimedDevice, result: Result<(), ApiError>| match result {
        Ok(()) => DeviceUpdate::Succeeded {
            account_id: device.account_id,
            device_id: device.device_id,
        },
        Err(error) => DeviceUpdate::Failed {
            retry_at: rules::retry_at(&settings.retry, device.attempts, error.code, now_ms()),
            account_id: device.account_id,
            device_id: device.device_id,
            error,
        },
    };
    let mut batch: Vec<DeviceUpdate> = Vec::new();
    // Devices finishing wake the loop at once; rounds closer than this are merged, so a busy campaign
    // costs a round per few devices, not per device (bench/RESULTS.md, campaign CPU profile).
    const MIN_ROUND: Duration = Duration::from_millis(10);
    let mut last_round = Instant::now();

    loop {
        let since = last_round.elapsed();
        if since < MIN_ROUND {
            tokio::time::sleep(MIN_ROUND - since).await;
        }
        last_round = Instant::now();
        // Everything reported since the last round, with the audit records of the starts, in one
        // transaction.
        let mut audits: Vec<(Cloud, String, Result<(), ApiError>, bool)> = Vec::new();
        while let Ok(report) = reports_rx.try_recv() {
            match report {
                Report::Progress(update) => batch.push(update),
                Report::Started {
                    cloud,
                    device_id,
                    result,
                    recovered,
                } => audits.push((cloud, device_id, result, recovered)),
            }
        }
        while let Some(joined) = tasks.try_join_next() {
            let (device, result) =
                joined.map_err(|e| ApiError::internal(format!("a device task stopped: {e}")))?;
            batch.push(finished(device, result));
        }
        if !batch.is_empty() || !audits.is_empty() {
            write_batch(&console, id, &firmware.version, &batch, &audits)?;
            batch.clear();
            dirty = true;
        }

        let view = store.campaign_header(id)?;
        let mut state = view.state;
        if state == CampaignState::Running {
            state = advance(&console, &view)?;
        }
        let starts_allowed = state == CampaignState::Running
            && settings.start_at.is_none_or(|at| now_ms() >= at)
            && settings
                .window
                .as_ref()
                .is_none_or(|w| rules::window_open(w, now_ms()));
        if starts_allowed {
            let free = settings.concurrency.saturating_sub(tasks.len() as u32);
            let current = store.campaign_header(id)?.current_wave;
            for device in store.claim_devices(id, current, free)? {
                launch(device, &mut tasks, &mut sessions)?;
                dirty = true;
            }
        }

        if dirty && last_sample.elapsed() >= Duration::from_secs(1) {
            store.record_campaign_sample(id, &store.campaign_counts(id)?)?;
            last_sample = Instant::now();
            console.notify(DataKind::Campaigns);
            dirty = false;
        }

        let stop = match state {
            CampaignState::Running => false,
            // Paused, cancelled, finished: nothing new starts; follow what runs to its end.
            _ => tasks.is_empty() && reports_rx.is_empty(),
        };
        if stop {
            store.record_campaign_sample(id, &store.campaign_counts(id)?)?;
            console.notify(DataKind::Campaigns);
            return Ok(store.campaign_view(id)?);
        }

        tokio::select! {
            Some(joined) = tasks.join_next() => {
                // Written with the next round's batch, after the reports this task sent before it ended.
                let (device, result) = joined
                    .map_err(|e| ApiError::internal(format!("a device task stopped: {e}")))?;
                batch.push(finished(device, result));
            }
            _ = tokio::time::sleep(tick) => {}
        }
    }
}

/// Moves a running campaign past a finished wave: the next wave, completed, or stopped by the threshold.
fn advance(console: &Console, view: &CampaignView) -> Result<CampaignState, ApiError> {
    let store = console.store();
    let mut wave = view.current_wave;
    loop {
        let lowest_open = store.lowest_open_wave(view.id)?;
        if lowest_open.is_some_and(|w| w <= wave) {
            return Ok(CampaignState::Running);
        }
        let summaries = store.wave_summaries(view.id, view.wave_count)?;
        let Some(summary) = summaries.get(wave as usize) else {
            return Ok(CampaignState::Running);
        };
        let c = &summary.counts;
        let last = wave + 1 >= view.wave_count;
        if !rules::wave_passed(
            c.succeeded,
            c.failed,
            view.settings.failure_threshold_percent,
        ) {
            let action = view.settings.on_threshold;
            let reason = format!(
                "Wave {} of {}: {} of {} devices failed ({:.1} %), above the {} % threshold; {}.",
                wave + 1,
                view.wave_count,
                c.failed,
                c.succeeded + c.failed,
                summary.failure_percent,
                view.settings.failure_threshold_percent,
                match (action, last) {
                    (_, true) => "the campaign stopped",
                    (ThresholdAction::Abort, false) => "later waves were not started",
                    (ThresholdAction::Pause, false) => {
                        "paused before the next wave: retry the failed devices or resume"
                    }
                }
            );
            let to = match action {
                ThresholdAction::Abort => CampaignState::Aborted,
                ThresholdAction::Pause if last => CampaignState::Aborted,
                ThresholdAction::Pause => CampaignState::Paused,
            };
            if to == CampaignState::Paused {
                // Resuming goes on with the next wave.
                store.set_current_wave(view.id, wave + 1)?;
            }
            store.set_campaign_state(view.id, &[CampaignState::Running], to, Some(&reason))?;
            console.audit(
                &format!("campaign.{}", to.as_str()),
                Some(view.cloud),
                Some(&format!("campaign #{} {}", view.id, view.name)),
                &Err(ApiError::new(ErrorKind::Device, reason)),
            );
            return Ok(to);
        }
        if last {
            store.set_campaign_state(
                view.id,
                &[CampaignState::Running],
                CampaignState::Completed,
                None,
            )?;
            console.audit(
                "campaign.complete",
                Some(view.cloud),
                Some(&format!("campaign #{} {}", view.id, view.name)),
                &Ok(()),
            );
            return Ok(CampaignState::Completed);
        }
        wave += 1;
        store.set_current_wave(view.id, wave)?;
    }
}

fn write_batch(
    console: &Console,
    id: i64,
    version: &str,
    updates: &[DeviceUpdate],
    starts: &[(Cloud, String, Result<(), ApiError>, bool)],
) -> Result<(), ApiError> {
    let targets: Vec<String> = starts
        .iter()
        .map(|(_, device, _, _)| format!("campaign #{id}: {device} → {version}"))
        .collect();
    let details: Vec<Option<String>> = starts
        .iter()
        .map(|(_, _, result, recovered)| {
            let error = result.as_ref().err().map(ApiError::display_line);
            match (recovered, error) {
                (true, Some(e)) => Some(format!("found after a restart: {e}")),
                (true, None) => Some("found after a restart".to_string()),
                (false, e) => e,
            }
        })
        .collect();
    let records: Vec<AuditRecord<'_>> = starts
        .iter()
        .zip(targets.iter().zip(&details))
        .map(|((cloud, _, result, _), (target, detail))| AuditRecord {
            actor: console.actor(),
            action: "campaign.device.start",
            cloud: Some(*cloud),
            target: Some(target),
            result: if result.is_ok() { "ok" } else { "error" },
            detail: detail.as_deref(),
        })
        .collect();
    console
        .store()
        .apply_device_updates(id, updates, &records)?;
    if !records.is_empty() {
        console.notify(DataKind::Audit);
    }
    Ok(())
}
