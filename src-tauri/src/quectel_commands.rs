//! Quectel upgrade plan commands: list plans, act on a batch of them, poll their details, the auto-upgrade
//! switch and the Bluetooth flow (with a progress channel for the download). Adapters only.

use ota_app::quectel::{
    self, AutoUpgradeChange, QuectelActionReport, QuectelAutoUpgrade, QuectelBlePackage,
    QuectelBlePlan, QuectelBleProgress, QuectelBleReported, QuectelBleStatus, QuectelPlanAction,
    QuectelPlanItem, QuectelPlanList, QuectelPlanRow, QuectelWindow,
};
use ota_app::ApiError;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::IpcResult;
use crate::state::Shared;

/// `cached`: the store alone (instant, no request); otherwise every device's plan asked of the cloud.
#[tauri::command]
pub async fn list_quectel_plans(
    app: State<'_, Shared>,
    cached: bool,
) -> IpcResult<QuectelPlanList> {
    Ok(app.quectel_plan_list(cached).await?)
}

#[tauri::command]
pub async fn act_on_quectel_plans(
    app: State<'_, Shared>,
    action: QuectelPlanAction,
    items: Vec<QuectelPlanItem>,
    window: Option<QuectelWindow>,
) -> IpcResult<QuectelActionReport> {
    Ok(app.quectel_act(&items, action, window).await?)
}

/// Whether an appointment window keeps the rules for a plan running from `plan_start` to `plan_end` (Unix
/// ms): the rule that is broken, or null. Asked as the user picks; nothing is sent to the cloud.
#[tauri::command]
pub async fn check_quectel_appointment(
    app: State<'_, Shared>,
    plan_start: Option<i64>,
    plan_end: Option<i64>,
    window: QuectelWindow,
) -> IpcResult<Option<ApiError>> {
    Ok(app
        .check_quectel_appointment(plan_start, plan_end, window)
        .err())
}

#[tauri::command]
pub async fn quectel_plan_details(
    app: State<'_, Shared>,
    items: Vec<QuectelPlanItem>,
) -> IpcResult<Vec<QuectelPlanRow>> {
    Ok(app.quectel_plan_details(&items).await?)
}

#[tauri::command]
pub async fn get_quectel_auto_upgrade(
    app: State<'_, Shared>,
    device_key: String,
) -> IpcResult<QuectelAutoUpgrade> {
    Ok(app.quectel_auto_upgrade(&device_key).await?)
}

/// Turns the switch on or off and answers what the cloud then holds.
#[tauri::command]
pub async fn set_quectel_auto_upgrade(
    app: State<'_, Shared>,
    device_key: String,
    on: bool,
) -> IpcResult<QuectelAutoUpgrade> {
    let change = if on {
        AutoUpgradeChange::On
    } else {
        AutoUpgradeChange::Off
    };
    Ok(app.quectel_change_auto_upgrade(&device_key, change).await?)
}

/// Deletes the device's setting (auto mode off) and answers what the cloud then holds.
#[tauri::command]
pub async fn delete_quectel_auto_upgrade(
    app: State<'_, Shared>,
    device_key: String,
) -> IpcResult<QuectelAutoUpgrade> {
    Ok(app
        .quectel_change_auto_upgrade(&device_key, AutoUpgradeChange::Delete)
        .await?)
}

#[tauri::command]
pub async fn quectel_ble_statuses() -> IpcResult<Vec<QuectelBleStatus>> {
    Ok(quectel::ble_statuses())
}

#[tauri::command]
pub async fn quectel_ble_fetch(
    app: State<'_, Shared>,
    device_key: String,
) -> IpcResult<Option<QuectelBlePlan>> {
    Ok(app.quectel_ble_plan(&device_key).await?)
}

#[tauri::command]
pub async fn quectel_ble_report(
    app: State<'_, Shared>,
    device_key: String,
    code: i64,
    component_no: Option<String>,
) -> IpcResult<QuectelBleReported> {
    let status = quectel::ble_status(code)?;
    Ok(app
        .quectel_ble_report(&device_key, status, component_no)
        .await?)
}

/// Downloads the Bluetooth package into the data folder, reporting "downloading" and then "downloaded"
/// (or the failure); `on_progress` receives the bytes as they come.
#[tauri::command]
pub async fn quectel_ble_download(
    app: State<'_, Shared>,
    device_key: String,
    on_progress: Channel<QuectelBleProgress>,
) -> IpcResult<QuectelBlePackage> {
    let mut send = |p: QuectelBleProgress| {
        if let Err(err) = on_progress.send(p) {
            tracing::debug!(error = %err, "the window stopped listening to a download");
        }
    };
    Ok(app.quectel_ble_download(&device_key, &mut send).await?)
}
