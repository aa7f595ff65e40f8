//! Updating several Vicohome cameras at once: what an update of the selection would do (shown before the
//! window asks), and the update itself with one event stream for every camera. Adapters only: the rules
//! and the pacing live in `ota_app::vicohome`.

use ota_app::campaigns::DeviceKey;
use ota_app::vicohome::{CameraUpdateEvent, CameraUpdatePlan};
use tauri::ipc::Channel;
use tauri::State;
use tokio::sync::mpsc;

use crate::error::IpcResult;
use crate::progress::JOB_UPDATE_GAP;
use crate::state::Shared;

/// Which of the selected devices an update would start, and why each other one is left out.
#[tauri::command]
pub async fn vicohome_update_plan(
    app: State<'_, Shared>,
    devices: Vec<DeviceKey>,
) -> IpcResult<CameraUpdatePlan> {
    Ok(app.vicohome_update_plan(&devices)?)
}

/// Starts the update of every camera among `devices`; `on_event` receives what happens to each (left
/// out, starting, started and its progress, refused) and `settled` once every camera has its answer.
#[tauri::command]
pub async fn start_vicohome_updates(
    app: State<'_, Shared>,
    devices: Vec<DeviceKey>,
    on_event: Channel<CameraUpdateEvent>,
) -> IpcResult<()> {
    let events = app
        .inner()
        .clone()
        .start_vicohome_updates(&devices, JOB_UPDATE_GAP)?;
    forward_events(events, on_event);
    Ok(())
}

/// Sends every event to `channel` until the stream ends or the window stops listening.
fn forward_events(
    mut events: mpsc::Receiver<CameraUpdateEvent>,
    channel: Channel<CameraUpdateEvent>,
) {
    tauri::async_runtime::spawn(async move {
        while let Some(event) = events.recv().await {
            if channel.send(event).is_err() {
                return;
            }
        }
    });
}
