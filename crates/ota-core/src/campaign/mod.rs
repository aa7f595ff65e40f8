//! Fleet campaigns: a firmware from the library rolled out to many devices in waves, with a concurrency
//! cap, a request-rate cap, a failure threshold per wave, an optional start time and maintenance window,
//! automatic retries, pause / resume / cancel, and a pre-flight check that says which devices will not
//! take it and why. Each cloud's own mechanism does the per-device work ([`crate::cloud::FleetUpdates`]).

mod continuous;
mod preflight;
pub use preflight::preflight;
pub(crate) use preflight::update_target;
use preflight::{exclusion, plan, resolve_targets};
pub mod lease;
pub mod model;
pub mod planning;
pub mod rules;
pub mod runner;

pub use continuous::close;
/// The campaign tables: create, state changes, the runner's claims and leases, the dashboard's views.
pub(crate) mod store;
pub mod templates;

use std::sync::Arc;

use crate::console::{Console, DataKind};
use crate::error::{ApiError, ErrorKind};
use crate::model::now_ms;
use crate::store::{NewCampaignDevice, NewCampaignRow};
use model::*;

/// Creates a campaign (not started): the pre-flight check decides each device's wave or why it is left
/// out. All rows are written in one transaction. Audited.
pub fn create(console: &Console, new: &NewCampaign) -> Result<CampaignView, ApiError> {
    let name = new.name.trim();
    let result = (|| {
        if name.is_empty() || name.chars().count() > 120 {
            return Err(ApiError::validation(
                "Give the campaign a name (up to 120 characters).",
            ));
        }
        let plan = plan(console, new)?;
        let continuous = new.rules.as_ref().is_some_and(|r| r.continuous);
        if plan.preflight.eligible == 0 && !continuous {
            return Err(ApiError::validation(format!(
                "None of the {} devices can take {} {}: {}.",
                plan.preflight.targets,
                plan.firmware.file_name,
                plan.firmware.version,
                plan.preflight
                    .by_reason
                    .iter()
                    .map(|r| format!("{} {}", r.count, r.label.to_lowercase()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .with_hint("Publish the firmware, refresh the fleet or choose other devices."));
        }
        let (filter, cohort_id) = match &new.targets {
            CampaignTargets::Filter { query } => (Some(query), None),
            CampaignTargets::Devices { .. } => (None, None),
            CampaignTargets::Cohort { cohort_id } => (None, Some(*cohort_id)),
        };
        let devices: Vec<NewCampaignDevice<'_>> = plan
            .rows
            .iter()
            .map(|(device, wave, skip)| NewCampaignDevice {
                device,
                wave: *wave,
                skip: skip.clone(),
            })
            .collect();
        let id = console.store().create_campaign(
            &NewCampaignRow {
                name,
                firmware_id: new.firmware_id,
                settings: &new.settings,
                target_filter: filter,
                wave_count: new.settings.waves.len() as u32,
                created_by: console.actor(),
                rules: &new.rules.clone().unwrap_or_default(),
                cohort_id,
            },
            &devices,
        )?;
        Ok(console.store().campaign_view(id)?)
    })();
    console.audit(
        "campaign.create",
        result.as_ref().ok().map(|v| v.cloud),
        Some(&match &result {
            Ok(v) => format!(
                "campaign #{} {name} ({} devices)",
                v.id,
                v.counts.total - v.counts.skipped
            ),
            Err(_) => format!("campaign {name}"),
        }),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    if result.is_ok() {
        console.notify(DataKind::Campaigns);
        console.notify(DataKind::Library);
    }
    result
}

/// Audits `action` on campaign `id` with its outcome (the campaign named when it can be read), tells the
/// window campaigns changed, and answers the campaign as it is now.
pub(crate) fn audited(
    console: &Console,
    id: i64,
    action: &str,
    result: Result<(), ApiError>,
) -> Result<CampaignView, ApiError> {
    let result = result.and_then(|()| Ok(console.store().campaign_view(id)?));
    let header = console.store().campaign_header(id).ok();
    console.audit(
        action,
        header.as_ref().map(|v| v.cloud),
        Some(&match &header {
            Some(v) => format!("campaign #{id} {}", v.name),
            None => format!("campaign #{id}"),
        }),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    console.notify(DataKind::Campaigns);
    result
}

fn change(
    console: &Console,
    id: i64,
    action: &str,
    from: &[CampaignState],
    to: CampaignState,
) -> Result<CampaignView, ApiError> {
    let result = console
        .store()
        .set_campaign_state(id, from, to, None)
        .map(|_| ())
        .map_err(ApiError::from);
    audited(console, id, action, result)
}

/// Starts a ready campaign (or resumes a paused one). Run it with [`spawn`] or [`runner::run`].
pub fn start(console: &Console, id: i64) -> Result<CampaignView, ApiError> {
    change(
        console,
        id,
        "campaign.start",
        &[CampaignState::Ready, CampaignState::Paused],
        CampaignState::Running,
    )
}

pub fn pause(console: &Console, id: i64) -> Result<CampaignView, ApiError> {
    change(
        console,
        id,
        "campaign.pause",
        &[CampaignState::Running],
        CampaignState::Paused,
    )
}

pub fn resume(console: &Console, id: i64) -> Result<CampaignView, ApiError> {
    change(
        console,
        id,
        "campaign.resume",
        &[CampaignState::Paused],
        CampaignState::Running,
    )
}

/// Nothing new starts; devices already updating are followed to their end.
pub fn cancel(console: &Console, id: i64) -> Result<CampaignView, ApiError> {
    change(
        console,
        id,
        "campaign.cancel",
        &[
            CampaignState::AwaitingApproval,
            CampaignState::Ready,
            CampaignState::Running,
            CampaignState::Paused,
        ],
        CampaignState::Cancelled,
    )
}

/// Approves a campaign created with "require approval", as this console's user. Its creator is refused:
/// another user must approve it. Audited (refusals too).
pub fn approve(console: &Console, id: i64) -> Result<CampaignView, ApiError> {
    let result = console
        .store()
        .approve_campaign(id, console.actor())
        .map_err(ApiError::from);
    audited(console, id, "campaign.approve", result)
}

/// Manual gate: lets the campaign's next wave start (once its current wave passed and baked). Audited.
pub fn approve_wave(console: &Console, id: i64) -> Result<CampaignView, ApiError> {
    let result = console.store().approve_wave(id).map_err(ApiError::from);
    let view = console.store().campaign_view(id).ok();
    console.audit(
        "campaign.approve_wave",
        view.as_ref().map(|v| v.cloud),
        Some(&match (&view, &result) {
            (Some(v), Ok(wave)) => format!("campaign #{id} {}: wave {}", v.name, wave + 1),
            (Some(v), Err(_)) => format!("campaign #{id} {}", v.name),
            (None, _) => format!("campaign #{id}"),
        }),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    console.notify(DataKind::Campaigns);
    result.and_then(|_| view.ok_or_else(|| ApiError::internal("the campaign vanished")))
}

/// Puts the failed devices back in the queue and runs the campaign again from the earliest wave that has
/// any. Audited.
pub fn retry_failed(console: &Console, id: i64) -> Result<CampaignView, ApiError> {
    let result = (|| {
        let view = console.store().campaign_view(id)?;
        if view.state == CampaignState::Cancelled {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("Campaign #{id} was cancelled; create a new one for these devices."),
            ));
        }
        if view.counts.failed == 0 {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("Campaign #{id} has no failed devices."),
            ));
        }
        let n = console.store().requeue_failed(id)?;
        if let Some(wave) = console.store().lowest_open_wave(id)? {
            if wave < view.current_wave {
                console.store().set_current_wave(id, wave)?;
            }
        }
        if view.state != CampaignState::Running {
            console
                .store()
                .set_campaign_state(id, &[view.state], CampaignState::Running, None)?;
        }
        Ok((console.store().campaign_view(id)?, n))
    })();
    console.audit(
        "campaign.retry_failed",
        result.as_ref().ok().map(|(v, _)| v.cloud),
        Some(&match &result {
            Ok((v, n)) => format!("campaign #{id} {} ({n} devices)", v.name),
            Err(_) => format!("campaign #{id}"),
        }),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    console.notify(DataKind::Campaigns);
    result.map(|(v, _)| v)
}

pub fn delete(console: &Console, id: i64) -> Result<CampaignView, ApiError> {
    let result = console.store().delete_campaign(id).map_err(ApiError::from);
    console.audit(
        "campaign.delete",
        result.as_ref().ok().map(|v| v.cloud),
        Some(&format!("campaign #{id}")),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    console.notify(DataKind::Campaigns);
    console.notify(DataKind::Library);
    result
}

pub fn list(console: &Console) -> Result<Vec<CampaignView>, ApiError> {
    Ok(console.store().campaign_views()?)
}

/// Counts, waves, pace and failures for the dashboard.
pub fn dashboard(console: &Console, id: i64) -> Result<CampaignDashboard, ApiError> {
    let store = console.store();
    let (campaign, waves) = store.campaign_view_with_waves(id)?;
    let history = store.campaign_history(id, 240)?;
    let c = &campaign.counts;
    let done = c.succeeded + c.failed;
    let success_percent = if done == 0 {
        0.0
    } else {
        f64::from(c.succeeded) * 100.0 / f64::from(done)
    };
    // Pace over the last five minutes of samples (or since the start).
    let per_minute = match (
        history.last(),
        history.iter().find(|p| {
            history
                .last()
                .is_some_and(|last| last.at - p.at <= 5 * 60_000)
        }),
    ) {
        (Some(last), Some(first)) if last.at > first.at => {
            let finished = |p: &ProgressPoint| f64::from(p.succeeded + p.failed);
            (finished(last) - finished(first)) * 60_000.0 / (last.at - first.at) as f64
        }
        _ => 0.0,
    };
    let eta_secs = (per_minute > 0.0 && !campaign.state.is_finished())
        .then(|| (f64::from(c.open()) / per_minute * 60.0).ceil() as u64);
    let window_opens_at = campaign
        .settings
        .window
        .as_ref()
        .filter(|_| campaign.state == CampaignState::Running)
        .and_then(|w| rules::next_opening(w, now_ms()))
        .filter(|&at| at > now_ms());
    Ok(CampaignDashboard {
        failures: store.failure_groups(id)?,
        campaign,
        waves,
        success_percent,
        per_minute,
        eta_secs,
        window_opens_at,
        history,
        run_by: store.campaign_lease(id, now_ms())?,
    })
}

/// The runner that runs a campaign now (holds its live lease), if any: this process or another.
pub fn run_by(console: &Console, id: i64) -> Result<Option<CampaignLease>, ApiError> {
    Ok(console.store().campaign_lease(id, now_ms())?)
}

pub fn devices(
    console: &Console,
    id: i64,
    query: &CampaignDeviceQuery,
) -> Result<CampaignDevicePage, ApiError> {
    Ok(console.store().campaign_devices(id, query)?)
}

/// Runs a campaign in the background unless this process already does. While another process runs it,
/// the task follows and takes over only when that runner ends or its lease expires ([`runner::run`]).
pub fn spawn(console: Arc<Console>, id: i64) {
    tokio::spawn(drive(console, id));
}

/// Runs a campaign in this task until it ends, pauses or fails, and answers its final view; `None` when
/// this process already runs it elsewhere. A runner failure is logged and audited. A campaign resumed
/// while its runner was winding down is run again, so it never stays "running" with no runner.
pub async fn drive(console: Arc<Console>, id: i64) -> Option<Result<CampaignView, ApiError>> {
    drive_with(console, id, &runner::RunnerControl::default()).await
}

/// [`drive`] with a host's controls ([`runner::RunnerControl`]: stop signal, name, observer). Stopped, it
/// answers the campaign as it stands (still running: another runner goes on with it).
pub async fn drive_with(
    console: Arc<Console>,
    id: i64,
    control: &runner::RunnerControl,
) -> Option<Result<CampaignView, ApiError>> {
    if !console.claim_campaign(id) {
        return None;
    }
    loop {
        match runner::run_with(console.clone(), id, control).await {
            Err(err) => {
                tracing::error!(campaign = id, error = %err.display_line(), "campaign runner stopped");
                console.audit(
                    "campaign.runner",
                    None,
                    Some(&format!("campaign #{id}")),
                    &Err(err.clone()),
                );
                console.release_campaign(id);
                console.notify(DataKind::Campaigns);
                return Some(Err(err));
            }
            Ok(view) => {
                console.release_campaign(id);
                let resumed = console.store().campaign_header(id).is_ok_and(|v| {
                    v.state == CampaignState::Running && view.state != CampaignState::Running
                });
                if !resumed || control.stop.is_cancelled() || !console.claim_campaign(id) {
                    console.notify(DataKind::Campaigns);
                    return Some(Ok(view));
                }
            }
        }
    }
}

/// After a restart: runs every campaign that was running or has devices in flight. A campaign another
/// process runs is followed, not run twice (its lease decides).
pub fn resume_running(console: &Arc<Console>) -> Result<usize, ApiError> {
    let ids = console.store().running_campaigns()?;
    for id in &ids {
        spawn(console.clone(), *id);
    }
    Ok(ids.len())
}
