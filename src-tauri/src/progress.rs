//! Progress back to the window: one `tauri::ipc::Channel` per job (the use-case layer throttles it to
//! ~10 updates a second and always delivers the final state), and "data changed" notices as one batched
//! event.

use std::time::Duration;

use ota_app::jobs::{FollowedJob, JobView};
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter};

use crate::state::Shared;

/// At most one progress update per job this often.
pub const JOB_UPDATE_GAP: Duration = Duration::from_millis(100);

/// Sends the job's state and then every later one to `channel` until it ends or the window stops
/// listening.
pub fn forward_job(job: FollowedJob, channel: Channel<JobView>) {
    let FollowedJob { first, mut updates } = job;
    tauri::async_runtime::spawn(async move {
        if channel.send(first).is_err() {
            return;
        }
        while let Some(view) = updates.recv().await {
            if channel.send(view).is_err() {
                return;
            }
        }
    });
}

/// Emits one `data-changed` event per batch of change notices.
pub fn forward_data_changes(handle: AppHandle, app: Shared) {
    tauri::async_runtime::spawn(async move {
        let mut batches = app.data_changes();
        while let Some(batch) = batches.recv().await {
            if let Err(err) = handle.emit("data-changed", batch) {
                tracing::warn!(error = %err, "could not emit data-changed");
            }
        }
    });
}
