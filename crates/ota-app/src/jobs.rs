//! Jobs: one device's update, followed until it ends. Progress reaches the caller as a stream of job
//! views, throttled for a window (at most one every `min_gap`, the final state always delivered).

use std::time::Duration;

pub use ota_core::progress::{format_bytes_progress, JobPhase, ProgressSample};
pub use ota_core::store::{JobEvent, JobState, JobView};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;

use crate::{ApiError, App};

/// A job and its later states: `updates` yields every change after `first` until the job ends (then it
/// closes).
pub struct FollowedJob {
    pub first: JobView,
    pub updates: mpsc::Receiver<JobView>,
}

impl App {
    /// The newest jobs (at most 1 000).
    pub fn jobs(&self, limit: u32) -> Result<Vec<JobView>, ApiError> {
        Ok(self.console.store().jobs(limit.clamp(1, 1000))?)
    }

    /// A job's history: every sample and error it recorded.
    pub fn job_events(&self, job_id: i64) -> Result<Vec<JobEvent>, ApiError> {
        Ok(self.console.store().job_events(job_id)?)
    }

    /// Follows a job (polling resumes when nobody polls an unfinished one).
    pub fn watch_job(&self, job_id: i64, min_gap: Duration) -> Result<FollowedJob, ApiError> {
        let updates = self.console.subscribe_jobs();
        let first = ota_core::jobs::watch_job(self.console.clone(), job_id)?;
        Ok(follow(updates, first, min_gap))
    }
}

/// Forwards the updates of `first`'s job, throttled to one every `min_gap` (zero: every one), until it
/// ends or the receiver is dropped. `updates` must be subscribed before the job could change, so nothing
/// is missed.
pub(crate) fn follow(
    mut updates: broadcast::Receiver<JobView>,
    first: JobView,
    min_gap: Duration,
) -> FollowedJob {
    let (tx, rx) = mpsc::channel(64);
    let job_id = first.id;
    let mut finished = !first.state.is_active();
    tokio::spawn(async move {
        let mut pending: Option<JobView> = None;
        let mut last_sent = tokio::time::Instant::now();
        while !finished {
            let next = if pending.is_some() {
                tokio::time::timeout_at(last_sent + min_gap, updates.recv())
                    .await
                    .ok()
            } else {
                Some(updates.recv().await)
            };
            match next {
                Some(Ok(view)) if view.id == job_id => {
                    finished = !view.state.is_active();
                    pending = Some(view);
                }
                Some(Ok(_)) | Some(Err(RecvError::Lagged(_))) => continue,
                Some(Err(RecvError::Closed)) => break,
                None => {}
            }
            if finished || last_sent.elapsed() >= min_gap {
                if let Some(view) = pending.take() {
                    if tx.send(view).await.is_err() {
                        return;
                    }
                    last_sent = tokio::time::Instant::now();
                }
            }
        }
    });
    FollowedJob { first, updates: rx }
}
