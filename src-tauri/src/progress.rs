//! Progress back to the window: one `tauri::ipc::Channel` per job, at most ~10 updates a second, the final
//! state always delivered. "Data changed" notices go out as one batched event.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use ota_core::store::JobView;
use ota_core::{Console, DataKind};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::{self, error::RecvError};
use ts_rs::TS;

const MIN_GAP: Duration = Duration::from_millis(100);
const BATCH_WINDOW: Duration = Duration::from_millis(250);

/// Sends `first` and then every later update of the same job to `channel`, throttled, until the job ends.
/// `updates` must be subscribed before the job could change, so nothing is missed.
pub fn forward_job(
    mut updates: broadcast::Receiver<JobView>,
    first: JobView,
    channel: Channel<JobView>,
) {
    tauri::async_runtime::spawn(async move {
        let job_id = first.id;
        let mut finished = !first.state.is_active();
        if channel.send(first).is_err() || finished {
            return;
        }
        let mut pending: Option<JobView> = None;
        let mut last_sent = tokio::time::Instant::now();
        while !finished {
            let next = if pending.is_some() {
                tokio::time::timeout_at(last_sent + MIN_GAP, updates.recv())
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
            let due = finished || last_sent.elapsed() >= MIN_GAP;
            if due {
                if let Some(view) = pending.take() {
                    if channel.send(view).is_err() {
                        return;
                    }
                    last_sent = tokio::time::Instant::now();
                }
            }
        }
    });
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct DataChanged {
    pub kinds: Vec<DataKind>,
}

/// Collects change notices for a short window and emits one `data-changed` event per window.
pub fn forward_data_changes(app: AppHandle, console: Arc<Console>) {
    let mut changes = console.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let first = match changes.recv().await {
                Ok(kind) => kind,
                Err(RecvError::Lagged(_)) => DataKind::Devices,
                Err(RecvError::Closed) => return,
            };
            let mut kinds = BTreeSet::from([first]);
            let window = tokio::time::sleep(BATCH_WINDOW);
            tokio::pin!(window);
            loop {
                tokio::select! {
                    _ = &mut window => break,
                    next = changes.recv() => match next {
                        Ok(kind) => { kinds.insert(kind); }
                        Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => break,
                    }
                }
            }
            if let Err(err) = app.emit(
                "data-changed",
                DataChanged {
                    kinds: kinds.into_iter().collect(),
                },
            ) {
                tracing::warn!(error = %err, "could not emit data-changed");
            }
        }
    });
}
