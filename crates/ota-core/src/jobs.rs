//! OTA jobs: start an update once, then watch the cloud's status until it ends, writing every sample to
//! the job's history. Restarting the app resumes watching; it never sends a second start.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cloud::{VicohomeOta, VicohomeOtaStatus};
use crate::console::{Console, DataKind};
use crate::error::{ApiError, ErrorKind};
use crate::model::{Account, Cloud};
use crate::progress::{failure_without_code, vicohome_sample, JobPhase};
use crate::store::{JobSample, JobView, NewJob};

/// How jobs are polled.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOptions {
    /// Time between status calls (the vendor's app uses 5 s).
    pub poll_interval: Duration,
    /// Random spread added to each interval, so many jobs do not poll in lockstep.
    pub jitter: Duration,
    /// Longest wait after repeated transient failures (429, 5xx, timeouts, device briefly offline).
    pub max_backoff: Duration,
    /// A job that has not finished by then is failed (the vendor's app gives up after about 9 minutes).
    pub deadline: Duration,
}

impl Default for JobOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            jitter: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            deadline: Duration::from_secs(9 * 60),
        }
    }
}

impl JobOptions {
    /// Scales the intervals for a simulator whose clock runs `time_scale` times faster than ours.
    pub fn scaled(time_scale: f64) -> Self {
        let scale = if time_scale.is_finite() && time_scale >= 1.0 {
            time_scale
        } else {
            1.0
        };
        let d = Self::default();
        Self {
            // 25 ms floor: the vendor's 5 s at time scale 200, so `otactl --sim-url` against
            // `ota-sim --time-scale 200` samples every phase (installing lasts 100 ms there).
            poll_interval: d
                .poll_interval
                .div_f64(scale)
                .max(Duration::from_millis(25)),
            jitter: d.jitter.div_f64(scale),
            max_backoff: d.max_backoff.div_f64(scale).max(Duration::from_millis(200)),
            deadline: d.deadline.div_f64(scale).max(Duration::from_secs(30)),
        }
    }
}

fn vicohome_of(
    console: &Console,
    account: &Account,
) -> Result<Arc<dyn crate::cloud::CloudSession>, ApiError> {
    if account.cloud != Cloud::Vicohome {
        return Err(ApiError::validation(format!(
            "{} is a {} account; firmware updates started from here are for Vicohome cameras.",
            account.name,
            account.cloud.label()
        )));
    }
    let session = console.session(account)?;
    if session.vicohome().is_none() {
        return Err(ApiError::internal(
            "The Vicohome client is missing for this account.",
        ));
    }
    Ok(session)
}

/// Starts a firmware update of one Vicohome camera and returns the job; its progress then arrives through
/// [`Console::subscribe_jobs`] until it ends.
pub async fn start_vicohome_update(
    console: Arc<Console>,
    account_id: i64,
    serial: &str,
) -> Result<JobView, ApiError> {
    let serial = serial.trim();
    if serial.is_empty() {
        return Err(ApiError::validation("Enter the camera's serial number."));
    }
    let store = console.store();
    let account = store.account(account_id)?;
    let session = vicohome_of(&console, &account)?;
    let ota = session
        .vicohome()
        .ok_or_else(|| ApiError::internal("no Vicohome client"))?;
    let device = store.device(account_id, serial)?;
    // Written before anything is sent: a crash after this point resumes watching instead of starting again,
    // and the unique index refuses a second job for the same camera.
    let job = store.begin_job(&NewJob {
        account_id,
        cloud: Cloud::Vicohome,
        device_id: serial,
        from_version: device.as_ref().map(|d| d.firmware.as_str()),
        to_version: device.as_ref().and_then(|d| d.newest_firmware.as_deref()),
    })?;
    console.publish_job(&job);

    // The camera may already be updating (started from the vendor's app, or by us before a crash):
    // then we only watch it.
    let already_running = match ota.ota_status(serial).await {
        Ok(status) => status.in_progress && (0..=2).contains(&status.ota_status),
        Err(_) => false,
    };
    let first = if already_running {
        Ok(None)
    } else {
        match ota.start_ota(serial).await {
            // A lost answer (timeout, unreadable body, 5xx) does not say the start failed: if the camera
            // is updating now, the start went through and the job follows it instead of failing.
            Err(err) if err.code.is_transient() => match ota.ota_status(serial).await {
                Ok(status) if status.in_progress && (0..=2).contains(&status.ota_status) => {
                    tracing::info!(serial, error = %err.display_line(),
                        "the start's answer was lost but the camera is updating; following it");
                    Ok(None)
                }
                _ => Err(err),
            },
            other => other.map(Some),
        }
    };
    let result: Result<(), ApiError> = first.as_ref().map(|_| ()).map_err(Clone::clone);
    console.audit("ota.start", Some(Cloud::Vicohome), Some(serial), &result);
    let view = match first {
        Err(err) => {
            fail(&console, job.id, &err)?;
            return Err(err);
        }
        Ok(Some(status)) => record(&console, &job, &status, ota).await?,
        Ok(None) => job,
    };
    spawn_watcher(console, view.clone());
    Ok(view)
}

/// Resumes watching every job that was unfinished when the app last stopped. No start is sent.
pub fn resume_active_jobs(console: &Arc<Console>) -> Result<usize, ApiError> {
    let jobs = console.store().active_jobs()?;
    let count = jobs.len();
    for job in jobs {
        spawn_watcher(console.clone(), job);
    }
    Ok(count)
}

/// The current state of a job; if it is unfinished and nobody polls it, polling resumes.
pub fn watch_job(console: Arc<Console>, job_id: i64) -> Result<JobView, ApiError> {
    let job = console.store().job(job_id)?;
    if job.state.is_active() {
        spawn_watcher(console, job.clone());
    }
    Ok(job)
}

fn spawn_watcher(console: Arc<Console>, job: JobView) {
    if job.cloud != Cloud::Vicohome || !job.state.is_active() || !console.claim_job(job.id) {
        return;
    }
    tokio::spawn(async move {
        let job_id = job.id;
        if let Err(err) = watch_vicohome(&console, job).await {
            tracing::error!(job_id, error = %err.display_line(), "job watcher stopped");
            let _ = fail(&console, job_id, &err);
        }
        console.release_job(job_id);
    });
}

async fn record(
    console: &Console,
    job: &JobView,
    status: &VicohomeOtaStatus,
    ota: &dyn VicohomeOta,
) -> Result<JobView, ApiError> {
    let sample = vicohome_sample(
        status.ota_status,
        status.transferred,
        status.total,
        job.percent,
    );
    let mut new_firmware = None;
    if sample.phase == JobPhase::Complete {
        new_firmware = status.target_firmware.clone();
        if new_firmware.is_none() {
            new_firmware = ota.current_firmware(&job.device_id).await.ok().flatten();
        }
    }
    let error = sample.phase.is_failure().then(|| {
        status
            .error
            .clone()
            .unwrap_or_else(|| failure_without_code(sample))
    });
    let view = console.store().record_job_sample(
        job.id,
        &JobSample {
            sample,
            error,
            new_firmware,
        },
    )?;
    console.publish_job(&view);
    if view.state == crate::store::JobState::Succeeded {
        console.notify(DataKind::Devices);
    }
    Ok(view)
}

/// Closes a job as failed with `err` and tells everyone following it.
fn fail(console: &Console, job_id: i64, err: &ApiError) -> Result<(), ApiError> {
    let failed = console.store().fail_job(job_id, err)?;
    console.publish_job(&failed);
    Ok(())
}

async fn watch_vicohome(console: &Arc<Console>, mut job: JobView) -> Result<(), ApiError> {
    let account = console.store().account(job.account_id)?;
    let session = vicohome_of(console, &account)?;
    let ota = session
        .vicohome()
        .ok_or_else(|| ApiError::internal("no Vicohome client"))?;
    let options = console.job_options().clone();
    // Measured from when this process started watching: after a restart the job gets a full deadline again.
    let deadline = Instant::now() + options.deadline;
    let mut backoff = options.poll_interval;
    let mut last_transient: Option<ApiError> = None;
    loop {
        if Instant::now() >= deadline {
            let err = last_transient.unwrap_or_else(|| {
                ApiError::new(
                    ErrorKind::Offline,
                    format!(
                        "The camera did not finish the update within {} minutes.",
                        options.deadline.as_secs().div_ceil(60)
                    ),
                )
                .with_hint("Check that the camera is powered and online, then look at its firmware version before retrying.")
            });
            fail(console, job.id, &err)?;
            return Ok(());
        }
        tokio::time::sleep(backoff + jitter(options.jitter)).await;
        match ota.ota_status(&job.device_id).await {
            Ok(status) => {
                backoff = options.poll_interval;
                last_transient = None;
                job = record(console, &job, &status, ota).await?;
                if !job.state.is_active() {
                    return Ok(());
                }
            }
            Err(err) if err.code.is_transient() => {
                tracing::info!(job_id = job.id, error = %err.display_line(), "status poll failed; backing off");
                let wait = err
                    .retry_after_secs
                    .map(|s| Duration::from_secs(u64::from(s)))
                    .unwrap_or(backoff * 2);
                backoff = wait.clamp(options.poll_interval, options.max_backoff);
                last_transient = Some(err);
            }
            Err(err) => {
                fail(console, job.id, &err)?;
                return Ok(());
            }
        }
    }
}

pub(crate) fn jitter(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    // Sub-second clock noise is random enough to spread pollers; no RNG dependency needed.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_nanos(u64::from(nanos) % max.as_nanos().max(1) as u64)
}
