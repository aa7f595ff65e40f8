//! The chunk loop: chunks until the package is complete or paused; each chunk's end is made durable
//! and recorded in the background, and waited for before the request after next (see the policy in
//! [`super::writer`]); after a cut, an exact record, a capped wait and a fresh token check.

use std::time::Duration;

use ota_core::onenet::{OnenetDownloadPhase, OnenetDownloadProgress, OnenetTask};
use ota_core::ApiError;

use super::chunk::{ChunkEnd, Fetcher};
use super::writer::Recording;
use super::FetchOptions;
use crate::retry::{capped_wait, MAX_ATTEMPTS, MAX_SINGLE_WAIT, MAX_TOTAL_WAIT};

/// How long a fetch keeps trying after cuts: the task's `retry` and `interval` (or the options), a
/// cloud's `Retry-After` — all within the caps of [`crate::retry`].
struct RetryPatience {
    /// Failures in a row that are retried.
    retries: u32,
    /// The wait between attempts.
    interval: Duration,
}

impl RetryPatience {
    fn new(task: &OnenetTask, options: &FetchOptions) -> Self {
        let asked = options.max_retries.unwrap_or_else(|| {
            match task.retry.and_then(|r| u32::try_from(r).ok()) {
                Some(r) if r > 0 => r,
                _ => 3,
            }
        });
        let interval = task
            .interval_secs
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs)
            .unwrap_or_default()
            .max(options.min_retry_wait);
        Self {
            retries: asked.min(MAX_ATTEMPTS - 1),
            interval: capped_wait(interval),
        }
    }

    /// The wait before the next attempt after `failures` in a row that already waited `waited`, or
    /// None to give up: too many failures, a `Retry-After` longer than the cap (handed back, with the
    /// wait the cloud asked for), or waits that would pass the total cap.
    fn wait_after(&self, failures: u32, waited: Duration, err: &ApiError) -> Option<Duration> {
        if failures > self.retries {
            return None;
        }
        let asked = err
            .retry_after_secs
            .map(|s| Duration::from_secs(u64::from(s)))
            .unwrap_or_default();
        if asked > MAX_SINGLE_WAIT {
            return None;
        }
        let wait = capped_wait(asked.max(self.interval));
        (waited + wait <= MAX_TOTAL_WAIT).then_some(wait)
    }
}

/// The error a fetch ends with after cuts it stopped retrying: where it stopped, why, and the wait the
/// cloud asked for, if any.
fn stopped_at(offset: u64, size: u64, err: ApiError) -> ApiError {
    let hint = match err.retry_after_secs {
        Some(secs) => {
            format!("OneNET asked to wait {secs} s; fetch again after that: it resumes from there.")
        }
        None => "Fetch again: it resumes from there.".to_string(),
    };
    let mut stopped = ApiError::new(
        err.code,
        format!(
            "The download stopped at {offset} of {size} bytes: {}",
            err.message
        ),
    )
    .with_hint(hint);
    stopped.retry_after_secs = err.retry_after_secs;
    stopped.vendor_code = err.vendor_code;
    stopped
}

/// Fetches chunks until the package is complete (None) or paused (the paused progress). A chunk's bytes
/// are durable and recorded before the request after the next one goes out; at a pause, a cut or an
/// error, everything received is durable and recorded before anything else happens.
pub(super) async fn transfer(
    fetcher: &mut Fetcher<'_>,
    resumed_from: u64,
    progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
) -> Result<Option<OnenetDownloadProgress>, ApiError> {
    let mut offset = resumed_from;
    let (task, options, client) = (fetcher.task, fetcher.options, fetcher.client);
    let patience = RetryPatience::new(task, options);
    // Consecutive failures and their waits; both start again once a chunk gets through.
    let mut failures = 0u32;
    let mut waited = Duration::ZERO;
    // The last complete chunk's record, still being made while the next chunk downloads.
    let mut recording: Option<Recording> = None;
    while offset < task.size {
        if fetcher.pause.is_paused() {
            let offset = fetcher.writer.checkpoint().await?;
            return Ok(Some(
                fetcher.meter.snapshot(offset, OnenetDownloadPhase::Paused),
            ));
        }
        let end = (offset + options.chunk_size).min(task.size) - 1;
        let (written, ended) = fetcher.chunk(offset, end, progress).await;
        let Some(ended) = ended else {
            offset += written;
            failures = 0;
            waited = Duration::ZERO;
            if offset < task.size {
                // One chunk of slack: the chunk before this one is on record before this one's end is
                // told or the next is asked for, so a fetch dropped after showing a chunk's end
                // resumes at most one chunk before it.
                let previous = recording.replace(fetcher.writer.mark().await?);
                if let Some(previous) = previous {
                    previous.recorded().await?;
                }
            }
            if let Some(p) = fetcher.meter.tick(offset, OnenetDownloadPhase::Downloading) {
                progress(p);
            }
            continue;
        };
        // Whatever reached the writer is made durable and recorded before anything else happens
        // (an earlier record still being made is part of it).
        recording = None;
        offset = fetcher.writer.checkpoint().await?;
        match ended {
            ChunkEnd::Paused => {
                return Ok(Some(
                    fetcher.meter.snapshot(offset, OnenetDownloadPhase::Paused),
                ));
            }
            ChunkEnd::Fatal(err) => return Err(err),
            ChunkEnd::Cut(err) => {
                failures += 1;
                let Some(wait) = patience.wait_after(failures, waited, &err) else {
                    return Err(stopped_at(offset, task.size, err));
                };
                waited += wait;
                tracing::info!(offset, failures, wait_ms = wait.as_millis() as u64,
                    error = %err.display_line(), "onenet download cut; resuming");
                progress(fetcher.meter.snapshot(offset, OnenetDownloadPhase::Waiting));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = fetcher.pause.wait_paused() => {}
                }
                // The official SDK checks the token before each chunk; after a cut it matters.
                if !fetcher.pause.is_paused() {
                    client
                        .check_download_token(&task.dev_id, &task.token)
                        .await?;
                }
            }
        }
    }
    // The last chunk needs no record of its own: the writer syncs the whole file when it finishes.
    drop(recording);
    progress(
        fetcher
            .meter
            .snapshot(offset, OnenetDownloadPhase::Verifying),
    );
    Ok(None)
}
