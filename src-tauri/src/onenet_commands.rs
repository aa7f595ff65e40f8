//! OneNET device-side OTA commands: check, fetch (with a progress channel and Pause), report. Adapters
//! only: `ota_clouds::onenet::service` does the work.

use std::collections::HashMap;
use std::sync::Mutex;

use ota_clouds::onenet::fetch::{pause_switch, FetchOptions, PauseSwitch};
use ota_clouds::onenet::service::{self, DeviceOverrides};
use ota_clouds::onenet::{ids, results};
use ota_core::onenet::{
    OnenetCheck, OnenetDownloadProgress, OnenetFetchEnd, OnenetReportAnswer, OnenetResultCode,
    OnenetTaskType,
};
use ota_core::{ApiError, ErrorKind};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::IpcResult;
use crate::state::AppState;

/// Downloads running now, by dev_id, with the switch that pauses each.
#[derive(Default)]
pub struct OnenetDownloads(Mutex<HashMap<String, PauseSwitch>>);

impl OnenetDownloads {
    fn start(&self, dev_id: &str) -> Result<ota_clouds::onenet::fetch::PauseSignal, ApiError> {
        let mut running = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains_key(dev_id) {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("Device {dev_id}'s package is being downloaded already."),
            ));
        }
        let (switch, signal) = pause_switch();
        running.insert(dev_id.to_string(), switch);
        Ok(signal)
    }

    fn finish(&self, dev_id: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(dev_id);
    }

    fn pause(&self, dev_id: &str) -> bool {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).get(dev_id) {
            Some(switch) => {
                switch.pause();
                true
            }
            None => false,
        }
    }
}

#[tauri::command]
pub async fn onenet_result_codes() -> IpcResult<Vec<OnenetResultCode>> {
    Ok(results::catalogue())
}

#[tauri::command]
pub async fn onenet_check(
    state: State<'_, AppState>,
    dev_id: String,
    task_type: OnenetTaskType,
) -> IpcResult<OnenetCheck> {
    state.wait_ready().await;
    let accounts = state.console.accounts()?;
    let target = service::locate(&state.console, &accounts, &dev_id).await?;
    let device = target.device_ref(&dev_id, task_type, DeviceOverrides::default())?;
    Ok(service::check_saved(&target, &device, &state.data_dir).await?)
}

/// Downloads the package of the task the core last checked for this device (or finds now): the
/// window names the device and the task type, never the task — its token, size, MD5 and file name are
/// what OneNET told the core.
#[tauri::command]
pub async fn onenet_fetch(
    state: State<'_, AppState>,
    downloads: State<'_, OnenetDownloads>,
    dev_id: String,
    task_type: OnenetTaskType,
    on_progress: Channel<OnenetDownloadProgress>,
) -> IpcResult<OnenetFetchEnd> {
    let dev_id = ids::dev_id(dev_id.trim())?.to_string();
    state.wait_ready().await;
    let accounts = state.console.accounts()?;
    let target = service::locate(&state.console, &accounts, &dev_id).await?;
    let pause = downloads.start(&dev_id)?;
    let mut send = |p: OnenetDownloadProgress| {
        if let Err(err) = on_progress.send(p) {
            tracing::debug!(error = %err, "the window stopped listening to a download");
        }
    };
    let result = service::fetch_checked(
        &state.console,
        &target,
        &dev_id,
        task_type,
        &state.data_dir,
        &FetchOptions::default(),
        pause,
        &mut send,
    )
    .await;
    downloads.finish(&dev_id);
    Ok(result?)
}

#[tauri::command]
pub async fn onenet_pause(
    downloads: State<'_, OnenetDownloads>,
    dev_id: String,
) -> IpcResult<bool> {
    Ok(downloads.pause(&dev_id))
}

#[tauri::command]
pub async fn onenet_report(
    state: State<'_, AppState>,
    dev_id: String,
    token: String,
    code: u16,
) -> IpcResult<OnenetReportAnswer> {
    let accounts = state.console.accounts()?;
    let target = service::locate(&state.console, &accounts, &dev_id).await?;
    Ok(service::report(&state.console, &target, &dev_id, &token, code).await?)
}
