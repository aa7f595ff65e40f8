//! The campaign runner: one coordinator per campaign and one task per device being updated.
//!
//! A runner first takes the campaign's lease ([`super::lease`]); while another runner holds it, it follows
//! (waits) and takes over when that one ends or its lease expires. Only the holder claims, starts and
//! records devices, and each of its writes checks the lease in the same transaction.
//!
//! The coordinator claims due devices of the current wave in one transaction (rows become `starting`
//! before any start is sent), spawns a task per device up to the concurrency cap, writes what the tasks
//! report in batches, moves to the next wave when the current one ended within its failure threshold, and
//! stops the campaign when it did not. Each device task reads the device's status before it starts it:
//! a device already updating is followed, a device already on the version is done, so a runner killed at
//! any point and started again never starts a device twice and forgets none.
//!
//! A continuous campaign that is not closed never completes here: each round it reads the fleet generation
//! and, when it moved (or every 30 s), lets devices that started matching join the current wave
//! (`super::continuous`); on its last wave with nothing open it waits for them.
//!
//! Told to stop ([`RunnerControl::stop`], `otactl serve` on SIGTERM), a runner starts nothing more, lets
//! its device tasks end at their next wait (a request in flight gets its answer, for at most the grace
//! period), records what they found, releases its lease so another runner takes over at once, and returns
//! with the campaign still running: devices left in flight are read again by the next runner.
//!
//! This module is the coordinator; the device task is in `device`, the controls in `control`, the batched
//! writes of what the tasks report in `record`.

mod control;
mod device;
mod record;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::lease::{self, HeldLease, LeaseError, RunnerIdentity};
use super::model::{CampaignState, CampaignView, CampaignWait, ThresholdAction};
use super::rules;
use crate::cloud::CloudSession;
use crate::console::{Console, DataKind};
use crate::error::{ApiError, CoreError, ErrorKind};
use crate::model::{now_ms, Cloud};
use crate::store::{AuditRecord, ClaimedDevice, DeviceUpdate};
use device::{drive, DeviceCtx, Halt, Report};
use record::write_batch;

pub use control::{CampaignObserver, CancellationToken, RunnerControl, STOP_GRACE};
pub use device::RateLimiter;

type DeviceTasks = JoinSet<(ClaimedDevice, Result<(), Halt>)>;

/// A continuous campaign resolves its targets again at least this often, fleet changes or not.
const RESOLVE_EVERY: Duration = Duration::from_secs(30);

/// A device a campaign rule failed: its cloud, id, audit action and why.
type RuleFailure = (Cloud, String, &'static str, ApiError);

/// Why a coordinator stopped before the campaign did.
enum Stop {
    /// Another runner holds the campaign now (this one was paused or too slow past its lease): follow.
    LeaseLost,
    Failed(ApiError),
}

impl From<ApiError> for Stop {
    fn from(err: ApiError) -> Self {
        Stop::Failed(err)
    }
}

impl From<CoreError> for Stop {
    fn from(err: CoreError) -> Self {
        Stop::Failed(err.into())
    }
}

impl From<LeaseError> for Stop {
    fn from(err: LeaseError) -> Self {
        match err {
            LeaseError::Lost { .. } => Stop::LeaseLost,
            LeaseError::Store(err) => Stop::Failed(err.into()),
        }
    }
}

/// Runs a campaign until it ends, pauses with nothing in flight, or is cancelled and its in-flight
/// devices have ended. Returns its final view.
///
/// While another runner (in this process or another) holds the campaign's lease, this one follows: it
/// waits, and takes the campaign over when that runner ends (then it finds nothing left to do) or stops
/// renewing its lease (killed, frozen); it then first reads the status of every device left in flight.
pub async fn run(console: Arc<Console>, id: i64) -> Result<CampaignView, ApiError> {
    run_with(console, id, &RunnerControl::default()).await
}

/// [`run`] with a host's controls: stopped by `control.stop` (the campaign's view as it stands is answered,
/// the lease released), named `control.program` in its lease rows, observed by `control.observer`.
pub async fn run_with(
    console: Arc<Console>,
    id: i64,
    control: &RunnerControl,
) -> Result<CampaignView, ApiError> {
    let mut me = RunnerIdentity::new();
    if let Some(program) = &control.program {
        me.program = program.clone();
    }
    let period = lease::period();
    let mut following: Option<String> = None;
    loop {
        if control.stopping() {
            return Ok(console.store().campaign_view(id)?);
        }
        match HeldLease::take(console.store(), id, &me, period, console.actor())? {
            Err(holder) => {
                if following.as_deref() != Some(holder.holder.as_str()) {
                    tracing::info!(campaign = id, runner = %holder.describe(), "the campaign is run by another runner; following");
                    control.observe(|o| o.following(id, &holder));
                    following = Some(holder.holder);
                }
                tokio::select! {
                    () = tokio::time::sleep(lease::follow_every(period)) => {}
                    () = control.stop.cancelled() => {}
                }
            }
            Ok(held) => {
                let held = Arc::new(held);
                control.observe(|o| o.lease_taken(id, held.took_over_from()));
                let renewals = held.spawn_renewals();
                let mut tasks = DeviceTasks::new();
                let outcome = coordinate(&console, id, &held, &mut tasks, control).await;
                renewals.abort();
                // Every device task has stopped before the lease is given up or followed: none sends after.
                tasks.shutdown().await;
                match outcome {
                    Ok(view) => {
                        held.release();
                        return Ok(view);
                    }
                    Err(Stop::Failed(err)) => {
                        held.release();
                        return Err(err);
                    }
                    Err(Stop::LeaseLost) => {
                        tracing::warn!(
                            campaign = id,
                            "this runner lost the campaign's lease; it follows the new holder"
                        );
                        following = None;
                        console.notify(DataKind::Campaigns);
                    }
                }
            }
        }
    }
}

/// The coordinator, while this runner holds the campaign's lease.
async fn coordinate(
    console: &Arc<Console>,
    id: i64,
    lease: &Arc<HeldLease>,
    tasks: &mut DeviceTasks,
    control: &RunnerControl,
) -> Result<CampaignView, Stop> {
    let store = console.store().clone();
    let view = store.campaign_view(id)?;
    let firmware = Arc::new(store.firmware(view.firmware_id)?);
    let settings = view.settings.clone();
    let limiter = Arc::new(RateLimiter::new(settings.requests_per_second));
    let options = console.job_options().clone();
    let (reports_tx, mut reports_rx) = mpsc::unbounded_channel::<Report>();
    let mut sessions: HashMap<i64, Arc<dyn CloudSession>> = HashMap::new();
    let tick =
        (options.poll_interval / 4).clamp(Duration::from_millis(20), Duration::from_millis(250));
    let mut last_sample = Instant::now() - Duration::from_secs(10);
    let mut dirty = true;
    // The wave (and the time it ended) whose succeeded devices were re-checked after its bake.
    let mut rechecked: Option<(u32, i64)> = None;
    // Continuous: the fleet generation its targets were last resolved at, and when.
    let mut resolved_at: Option<(i64, Instant)> = None;
    // Told to stop: until when the device tasks may finish their requests.
    let mut stop_by: Option<Instant> = None;

    let context = |account_id: i64,
                   sessions: &mut HashMap<i64, Arc<dyn CloudSession>>|
     -> Result<Arc<DeviceCtx>, ApiError> {
        let session = match sessions.get(&account_id) {
            Some(s) => s.clone(),
            None => {
                let account = store.account(account_id)?;
                let s = console.session(&account)?;
                sessions.insert(account_id, s.clone());
                s
            }
        };
        Ok(Arc::new(DeviceCtx {
            session,
            limiter: limiter.clone(),
            options: options.clone(),
            reports: reports_tx.clone(),
            firmware: firmware.clone(),
            lease: lease.clone(),
            rules: view.rules.clone(),
            stop: control.stop.clone(),
        }))
    };
    let launch = |device: ClaimedDevice,
                  tasks: &mut DeviceTasks,
                  sessions: &mut HashMap<i64, Arc<dyn CloudSession>>|
     -> Result<(), ApiError> {
        let ctx = context(device.account_id, sessions)?;
        tasks.spawn(async move {
            let result = drive(ctx, device.clone()).await;
            (device, result)
        });
        Ok(())
    };

    // Devices a previous runner left in flight (its lease expired or it ended): their status is read
    // first, nothing is sent blindly.
    for device in store.in_flight_devices(id)? {
        launch(device, tasks, &mut sessions)?;
    }

    // A device task's end, to record; `None` when it was stopped (the device stays in flight).
    let finished = |device: ClaimedDevice, result: Result<(), Halt>| match result {
        Ok(()) => Some(DeviceUpdate::Succeeded {
            account_id: device.account_id,
            device_id: device.device_id,
        }),
        Err(Halt::Failed(error)) => Some(DeviceUpdate::Failed {
            retry_at: rules::retry_at(&settings.retry, device.attempts, error.code, now_ms()),
            account_id: device.account_id,
            device_id: device.device_id,
            error,
        }),
        Err(Halt::Stopped) => None,
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
        lease.renew_if_due()?;
        let stopping = control.stopping();
        if stopping && stop_by.is_none() {
            tracing::info!(
                campaign = id,
                in_flight = tasks.len(),
                "told to stop: nothing new starts; waiting for the requests in flight"
            );
            stop_by = Some(Instant::now() + control.grace);
        }
        // Everything reported since the last round, with the audit records of the starts, in one
        // transaction.
        let mut audits: Vec<(Cloud, String, Result<(), ApiError>, bool)> = Vec::new();
        let mut rule_failures: Vec<RuleFailure> = Vec::new();
        while let Ok(report) = reports_rx.try_recv() {
            match report {
                Report::Progress(update) => batch.push(update),
                Report::Started {
                    cloud,
                    account_id,
                    device_id,
                    result,
                    recovered,
                } => {
                    batch.push(DeviceUpdate::Started {
                        account_id,
                        device_id: device_id.clone(),
                    });
                    audits.push((cloud, device_id, result, recovered));
                }
                Report::RuleFailed {
                    cloud,
                    device_id,
                    action,
                    error,
                } => rule_failures.push((cloud, device_id, action, error)),
            }
        }
        while let Some(joined) = tasks.try_join_next() {
            let (device, result) =
                joined.map_err(|e| ApiError::internal(format!("a device task stopped: {e}")))?;
            batch.extend(finished(device, result));
        }
        if !batch.is_empty() || !audits.is_empty() || !rule_failures.is_empty() {
            write_batch(
                console,
                lease,
                control,
                &firmware,
                &batch,
                &audits,
                &rule_failures,
            )?;
            batch.clear();
            dirty = true;
        }

        let view = store.campaign_header(id)?;
        // Continuous and not closed: devices that started matching join the current wave. The targets are
        // resolved again when the fleet generation moved (a refresh, tags, cohorts — in any process), and
        // at least every RESOLVE_EVERY (a device another campaign or update held may be free now).
        if view.rules.continuous
            && !view.closed
            && matches!(view.state, CampaignState::Running | CampaignState::Paused)
        {
            let generation = store.fleet_generation()?;
            let due = resolved_at
                .is_none_or(|(seen, at)| seen != generation || at.elapsed() >= RESOLVE_EVERY);
            if due {
                resolved_at = Some((generation, Instant::now()));
                if super::continuous::join_new_devices(console, lease, &view, &firmware)? > 0 {
                    dirty = true;
                }
            }
        }
        let mut state = view.state;
        // Stopping: no wave moves and nothing ends here; the next runner goes on from what is recorded.
        if state == CampaignState::Running && !stopping {
            state = match advance(console, lease, &view, rechecked)? {
                Advanced::To(state) => state,
                // The bake ended: every device of the wave that succeeded must still report the
                // version; one that does not is a late failure, and the wave does not pass.
                Advanced::Recheck { wave, done_at } => {
                    let mut late: Vec<DeviceUpdate> = Vec::new();
                    let mut late_audits: Vec<RuleFailure> = Vec::new();
                    for device in store.succeeded_in_wave(id, wave)? {
                        if control.stopping() {
                            break;
                        }
                        let ctx = context(device.account_id, &mut sessions)?;
                        if let Some(error) = device::recheck(&ctx, &device).await {
                            late_audits.push((
                                firmware.cloud,
                                device.device_id.clone(),
                                "campaign.device.version_not_confirmed",
                                error.clone(),
                            ));
                            late.push(DeviceUpdate::Failed {
                                account_id: device.account_id,
                                device_id: device.device_id,
                                error,
                                retry_at: None,
                            });
                        }
                    }
                    if control.stopping() {
                        // Cut short: the next runner re-checks the wave.
                        CampaignState::Running
                    } else if late.is_empty() {
                        rechecked = Some((wave, done_at));
                        CampaignState::Running
                    } else {
                        rechecked = Some((wave, done_at));
                        write_batch(console, lease, control, &firmware, &late, &[], &late_audits)?;
                        dirty = true;
                        let head = format!(
                            "Wave {} of {}: {} device{} no longer reported {} at the end of its {} bake (a late failure)",
                            wave + 1,
                            view.wave_count,
                            late.len(),
                            if late.len() == 1 { "" } else { "s" },
                            firmware.version,
                            rules::format_duration(u64::from(view.rules.bake_secs))
                        );
                        stop_wave(console, lease, &view, wave, &head)?
                    }
                }
            };
        }
        // The same rule `campaign plan` shows ([`rules::earliest_start`]): the start time and the
        // maintenance window; the bake and the gate held the move to this wave in `advance`.
        let starts_allowed = state == CampaignState::Running
            && !control.stopping()
            && rules::starts_allowed(&settings, &view.rules, now_ms());
        if starts_allowed {
            let free = settings.concurrency.saturating_sub(tasks.len() as u32);
            let current = store.campaign_header(id)?.current_wave;
            let claimed = lease.write(|fence| store.claim_devices(fence, current, free))?;
            for device in claimed {
                launch(device, tasks, &mut sessions)?;
                dirty = true;
            }
        }

        if dirty && last_sample.elapsed() >= Duration::from_secs(1) {
            lease.write(|fence| store.record_campaign_sample(fence))?;
            last_sample = Instant::now();
            console.notify(DataKind::Campaigns);
            dirty = false;
        }

        let stop = match state {
            CampaignState::Running if !stopping => false,
            // Paused, cancelled, finished, or told to stop: nothing new starts; follow what runs to its
            // end (when stopping, each device task ends at its next wait).
            _ => tasks.is_empty() && reports_rx.is_empty(),
        };
        // Stopping and the grace is over: what still runs is dropped with the tasks; its devices stay in
        // flight for the next runner.
        let stop = stop || stop_by.is_some_and(|by| Instant::now() >= by);
        if stop {
            lease.write(|fence| store.record_campaign_sample(fence))?;
            console.notify(DataKind::Campaigns);
            return Ok(store.campaign_view(id)?);
        }

        tokio::select! {
            Some(joined) = tasks.join_next() => {
                // Written with the next round's batch, after the reports this task sent before it ended.
                let (device, result) = joined
                    .map_err(|e| ApiError::internal(format!("a device task stopped: {e}")))?;
                batch.extend(finished(device, result));
            }
            _ = tokio::time::sleep(tick) => {}
            () = control.stop.cancelled(), if !stopping => {}
        }
    }
}

/// What a round of [`advance`] decided.
enum Advanced {
    To(CampaignState),
    /// The wave's bake just ended: re-check its succeeded devices before it passes.
    Recheck {
        wave: u32,
        done_at: i64,
    },
}

/// Moves a running campaign past a finished wave: the next wave, completed, or stopped by the threshold.
/// A wave that passed is first held by the campaign's rules ([`rules::wave_hold`]): its bake (at whose
/// end, with verified success, its succeeded devices are re-checked), then the manual gate. Each change
/// is one transaction under the lease, with its audit record.
fn advance(
    console: &Console,
    lease: &HeldLease,
    view: &CampaignView,
    rechecked: Option<(u32, i64)>,
) -> Result<Advanced, Stop> {
    let store = console.store();
    let wave = view.current_wave;
    let target = format!("campaign #{} {}", view.id, view.name);
    let lowest_open = store.lowest_open_wave(view.id)?;
    if lowest_open.is_some_and(|w| w <= wave) {
        return Ok(Advanced::To(CampaignState::Running));
    }
    let summaries = store.wave_summaries(view.id, view.wave_count)?;
    let Some(summary) = summaries.get(wave as usize) else {
        return Ok(Advanced::To(CampaignState::Running));
    };
    let c = &summary.counts;
    let last = wave + 1 >= view.wave_count;
    if !rules::wave_passed(
        c.succeeded,
        c.failed,
        view.settings.failure_threshold_percent,
    ) {
        let head = format!(
            "Wave {} of {}: {} of {} devices failed ({:.1} %), above the {} % threshold",
            wave + 1,
            view.wave_count,
            c.failed,
            c.succeeded + c.failed,
            summary.failure_percent,
            view.settings.failure_threshold_percent,
        );
        return Ok(Advanced::To(stop_wave(console, lease, view, wave, &head)?));
    }
    // Bake and manual gate: the wave passed; it is held from when it was first found so. A failure
    // arriving meanwhile is judged by the threshold above on every round.
    if rules::holds_after_wave(&view.rules, last) {
        let done_at = lease.write(|fence| store.mark_wave_done(fence))?;
        let header = store.campaign_header(view.id)?;
        let hold = rules::wave_hold(
            &view.rules,
            wave,
            view.wave_count,
            Some(done_at),
            header.wave_approved,
            now_ms(),
        );
        if matches!(hold, Some(CampaignWait::Baking { .. })) {
            return Ok(Advanced::To(CampaignState::Running));
        }
        if view.rules.bake_secs > 0
            && view.rules.verify_version
            && rechecked != Some((wave, done_at))
        {
            return Ok(Advanced::Recheck { wave, done_at });
        }
        if hold.is_some() {
            return Ok(Advanced::To(CampaignState::Running));
        }
    }
    if last && view.rules.continuous && !view.closed {
        // Continuous: its devices are done, it waits for new ones (`waiting_for_devices`) until closed.
        return Ok(Advanced::To(CampaignState::Running));
    }
    // The wave passed (and baked, and was let through its gate): audited with the move past it, so
    // webhooks send `campaign.wave_passed` once per wave, before the next wave's or the completion.
    let passed_detail = format!(
        "Wave {} of {} passed: {} succeeded, {} failed ({:.1} %, threshold {} %)",
        wave + 1,
        view.wave_count,
        c.succeeded,
        c.failed,
        summary.failure_percent,
        view.settings.failure_threshold_percent,
    );
    let passed = AuditRecord {
        actor: console.actor(),
        action: "campaign.wave_passed",
        cloud: Some(view.cloud),
        target: Some(&target),
        result: "ok",
        detail: Some(&passed_detail),
    };
    if last {
        let records = [
            passed.clone(),
            AuditRecord {
                action: "campaign.complete",
                detail: None,
                ..passed
            },
        ];
        let now = lease.write(|fence| {
            store.end_campaign_run(fence, None, CampaignState::Completed, None, &records)
        })?;
        console.notify(DataKind::Audit);
        return Ok(Advanced::To(now));
    }
    lease.write(|fence| store.move_to_wave(fence, wave + 1, &passed))?;
    console.notify(DataKind::Audit);
    Ok(Advanced::To(CampaignState::Running))
}

/// Stops a running campaign at `wave` as its threshold action says (abort, or pause before the next
/// wave), `head` saying why; audited in the same transaction.
fn stop_wave(
    console: &Console,
    lease: &HeldLease,
    view: &CampaignView,
    wave: u32,
    head: &str,
) -> Result<CampaignState, Stop> {
    let store = console.store();
    let target = format!("campaign #{} {}", view.id, view.name);
    let last = wave + 1 >= view.wave_count;
    let action = view.settings.on_threshold;
    let reason = format!(
        "{head}; {}.",
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
    // Resuming a paused campaign goes on with the next wave.
    let next_wave = (to == CampaignState::Paused).then_some(wave + 1);
    let action = format!("campaign.{}", to.as_str());
    let detail = ApiError::new(ErrorKind::Device, reason.clone()).display_line();
    // The failures over the threshold, then what they did to the campaign: two records, one transaction
    // (webhooks send `campaign.device_failures`, then `campaign.aborted` or `campaign.paused`).
    let records = [
        AuditRecord {
            actor: console.actor(),
            action: "campaign.wave_failed",
            cloud: Some(view.cloud),
            target: Some(&target),
            result: "error",
            detail: Some(head),
        },
        AuditRecord {
            actor: console.actor(),
            action: &action,
            cloud: Some(view.cloud),
            target: Some(&target),
            result: "error",
            detail: Some(&detail),
        },
    ];
    let now = lease
        .write(|fence| store.end_campaign_run(fence, next_wave, to, Some(&reason), &records))?;
    console.notify(DataKind::Audit);
    Ok(now)
}
