//! Quectel upgrade plan commands: list plans, act on a batch of them, poll their details, the auto-upgrade
//! switch and the Bluetooth flow (with a progress channel for the download). Adapters only:
//! `ota_clouds::quectel::service` does the work.

use ota_clouds::quectel::service::{self, AutoUpgradeChange, BleDownloadOptions};
use ota_core::quectel::{
    QuectelActionReport, QuectelAutoUpgrade, QuectelBlePackage, QuectelBlePlan, QuectelBleProgress,
    QuectelBleReported, QuectelBleStatus, QuectelPlanAction, QuectelPlanItem, QuectelPlanList,
    QuectelPlanRow, QuectelWindow,
};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::IpcResult;
use crate::state::AppState;

/// `cached`: the store alone (instant, no request); otherwise every device's plan asked of the cloud.
#[tauri::command]
pub async fn list_quectel_plans(
    state: State<'_, AppState>,
    cached: bool,
) -> IpcResult<QuectelPlanList> {
    state.wait_ready().await;
    let accounts = state.console.accounts()?;
    if cached {
        Ok(service::cached_plan_list(&state.console, &accounts).await?)
    } else {
        Ok(service::plan_list(&state.console, &accounts).await?)
    }
}

#[tauri::command]
pub async fn act_on_quectel_plans(
    state: State<'_, AppState>,
    action: QuectelPlanAction,
    items: Vec<QuectelPlanItem>,
    window: Option<QuectelWindow>,
) -> IpcResult<QuectelActionReport> {
    let accounts = state.console.accounts()?;
    Ok(service::act(&state.console, &accounts, &items, action, window).await?)
}

#[tauri::command]
pub async fn quectel_plan_details(
    state: State<'_, AppState>,
    items: Vec<QuectelPlanItem>,
) -> IpcResult<Vec<QuectelPlanRow>> {
    let accounts = state.console.accounts()?;
    Ok(service::plan_details(&state.console, &accounts, &items).await?)
}

#[tauri::command]
pub async fn get_quectel_auto_upgrade(
    state: State<'_, AppState>,
    device_key: String,
) -> IpcResult<QuectelAutoUpgrade> {
    state.wait_ready().await;
    let accounts = state.console.accounts()?;
    Ok(service::auto_upgrade(&state.console, &accounts, &device_key).await?)
}

/// Turns the switch on or off and answers what the cloud then holds.
#[tauri::command]
pub async fn set_quectel_auto_upgrade(
    state: State<'_, AppState>,
    device_key: String,
    on: bool,
) -> IpcResult<QuectelAutoUpgrade> {
    let accounts = state.console.accounts()?;
    let change = if on {
        AutoUpgradeChange::On
    } else {
        AutoUpgradeChange::Off
    };
    Ok(
        service::change_and_read_auto_upgrade(&state.console, &accounts, &device_key, change)
            .await?,
    )
}

/// Deletes the device's setting (auto mode off) and answers what the cloud then holds.
#[tauri::command]
pub async fn delete_quectel_auto_upgrade(
    state: State<'_, AppState>,
    device_key: String,
) -> IpcResult<QuectelAutoUpgrade> {
    let accounts = state.console.accounts()?;
    Ok(service::change_and_read_auto_upgrade(
        &state.console,
        &accounts,
        &device_key,
        AutoUpgradeChange::Delete,
    )
    .await?)
}

#[tauri::command]
pub async fn quectel_ble_statuses() -> IpcResult<Vec<QuectelBleStatus>> {
    Ok(service::ble_statuses())
}

#[tauri::command]
pub async fn quectel_ble_fetch(
    state: State<'_, AppState>,
    device_key: String,
) -> IpcResult<Option<QuectelBlePlan>> {
    let accounts = state.console.accounts()?;
    Ok(service::ble_fetch(&state.console, &accounts, &device_key).await?)
}

#[tauri::command]
pub async fn quectel_ble_report(
    state: State<'_, AppState>,
    device_key: String,
    code: i64,
    component_no: Option<String>,
) -> IpcResult<QuectelBleReported> {
    let accounts = state.console.accounts()?;
    let status = service::ble_status(code)?;
    Ok(service::ble_report(&state.console, &accounts, &device_key, status, component_no).await?)
}

/// Downloads the Bluetooth package into the data folder, reporting "downloading" and then "downloaded"
/// (or the failure); `on_progress` receives the bytes as they come.
#[tauri::command]
pub async fn quectel_ble_download(
    state: State<'_, AppState>,
    device_key: String,
    on_progress: Channel<QuectelBleProgress>,
) -> IpcResult<QuectelBlePackage> {
    let accounts = state.console.accounts()?;
    let dir = service::ble_download_dir(&state.data_dir, &device_key);
    let mut send = |p: QuectelBleProgress| {
        if let Err(err) = on_progress.send(p) {
            tracing::debug!(error = %err, "the window stopped listening to a download");
        }
    };
    let package = service::ble_download(
        &state.console,
        &accounts,
        &device_key,
        &dir,
        BleDownloadOptions { report_steps: true },
        &mut send,
    )
    .await?;
    Ok(service::package_view(&device_key, &package))
}
