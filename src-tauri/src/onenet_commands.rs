//! OneNET device-side OTA commands: check, fetch (with a progress channel and Pause), report. Adapters
//! only: the use-case layer does the work.

use ota_app::onenet::{
    self, OnenetCheck, OnenetDownloadProgress, OnenetFetchEnd, OnenetReportAnswer,
    OnenetResultCode, OnenetTaskType,
};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::IpcResult;
use crate::state::Shared;

#[tauri::command]
pub async fn onenet_result_codes() -> IpcResult<Vec<OnenetResultCode>> {
    Ok(onenet::result_codes())
}

#[tauri::command]
pub async fn onenet_check(
    app: State<'_, Shared>,
    dev_id: String,
    task_type: OnenetTaskType,
) -> IpcResult<OnenetCheck> {
    Ok(app.onenet_check(&dev_id, task_type).await?)
}

/// Downloads the package of the task the core last checked for this device (or finds now): the
/// window names the device and the task type, never the task — its token, size, MD5 and file name are
/// what OneNET told the core.
#[tauri::command]
pub async fn onenet_fetch(
    app: State<'_, Shared>,
    dev_id: String,
    task_type: OnenetTaskType,
    on_progress: Channel<OnenetDownloadProgress>,
) -> IpcResult<OnenetFetchEnd> {
    let mut send = |p: OnenetDownloadProgress| {
        if let Err(err) = on_progress.send(p) {
            tracing::debug!(error = %err, "the window stopped listening to a download");
        }
    };
    Ok(app.onenet_fetch(&dev_id, task_type, &mut send).await?)
}

#[tauri::command]
pub async fn onenet_pause(app: State<'_, Shared>, dev_id: String) -> IpcResult<bool> {
    Ok(app.onenet_pause(&dev_id))
}

#[tauri::command]
pub async fn onenet_report(
    app: State<'_, Shared>,
    dev_id: String,
    token: String,
    code: u16,
) -> IpcResult<OnenetReportAnswer> {
    Ok(app.onenet_report(&dev_id, &token, code).await?)
}
