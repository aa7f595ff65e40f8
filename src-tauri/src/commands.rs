//! Command adapters: argument in, one engine call, answer out. No business logic here.

use ota_core::store::{JobEvent, JobView};
use ota_core::{Account, ApiError, DevicePage, DeviceQuery, FleetFreshness, NewAccount, Secret};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;

use crate::error::IpcResult;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    /// True when the built-in simulator backs the sandbox accounts.
    pub sandbox: bool,
    pub sim_url: Option<String>,
}

/// Devices one import adds at most.
pub const MAX_IMPORTED_DEVICES: usize = 10_000;

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> IpcResult<AppInfo> {
    state.wait_ready().await;
    let sandbox = state.sandbox.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        data_dir: state.data_dir.display().to_string(),
        sandbox: sandbox.active,
        sim_url: sandbox.sim_url,
    })
}

#[tauri::command]
pub async fn list_devices(state: State<'_, AppState>, query: DeviceQuery) -> IpcResult<DevicePage> {
    Ok(state.console.devices(&query)?)
}

#[tauri::command]
pub async fn fleet_freshness(state: State<'_, AppState>) -> IpcResult<FleetFreshness> {
    Ok(state.console.freshness()?)
}

#[tauri::command]
pub async fn refresh_fleet(state: State<'_, AppState>) -> IpcResult<FleetFreshness> {
    state.wait_ready().await;
    Ok(state.console.refresh_fleet().await?)
}

#[tauri::command]
pub async fn list_accounts(state: State<'_, AppState>) -> IpcResult<Vec<Account>> {
    Ok(state.console.accounts()?)
}

#[tauri::command]
pub async fn add_account(
    state: State<'_, AppState>,
    account: NewAccount,
    secret: String,
) -> IpcResult<Account> {
    // The window always signs in first: a wrong password is shown in the form, not later.
    let added = state
        .console
        .add_account(&account, Secret::new(secret), true)
        .await?;
    Ok(added.account)
}

#[tauri::command]
pub async fn remove_account(state: State<'_, AppState>, name: String) -> IpcResult<Account> {
    Ok(state.console.remove_account(&name)?)
}

#[tauri::command]
pub async fn import_devices(
    state: State<'_, AppState>,
    account_id: i64,
    csv: String,
) -> IpcResult<usize> {
    let devices = parse_device_list(&csv)?;
    Ok(state.console.add_manual_devices(account_id, &devices)?)
}

/// The devices of a pasted or chosen list, within limits so one import cannot tie up the store: the size
/// a chosen file may have, and more devices than anyone lists by hand.
fn parse_device_list(csv: &str) -> Result<Vec<ota_core::store::ManualDevice>, ApiError> {
    let cap = crate::file_commands::MAX_DEVICE_CSV_BYTES;
    if csv.len() as u64 > cap {
        return Err(ApiError::validation(format!(
            "The device list is {}; at most {} is imported at once.",
            ota_core::library::describe_size(csv.len() as u64),
            ota_core::library::describe_size(cap)
        ))
        .with_hint("Split it into smaller lists."));
    }
    let devices = ota_core::store::parse_device_csv(csv)?;
    if devices.len() > MAX_IMPORTED_DEVICES {
        return Err(ApiError::validation(format!(
            "The list has {} devices; at most {MAX_IMPORTED_DEVICES} are imported at once.",
            devices.len()
        ))
        .with_hint("Split it into smaller lists."));
    }
    Ok(devices)
}

#[tauri::command]
pub async fn start_vicohome_update(
    state: State<'_, AppState>,
    account_id: i64,
    serial: String,
    on_progress: Channel<JobView>,
) -> IpcResult<JobView> {
    let updates = state.console.subscribe_jobs();
    let job =
        ota_core::jobs::start_vicohome_update(state.console.clone(), account_id, &serial).await?;
    crate::progress::forward_job(updates, job.clone(), on_progress);
    Ok(job)
}

#[tauri::command]
pub async fn watch_job(
    state: State<'_, AppState>,
    job_id: i64,
    on_progress: Channel<JobView>,
) -> IpcResult<JobView> {
    let updates = state.console.subscribe_jobs();
    let job = ota_core::jobs::watch_job(state.console.clone(), job_id)?;
    crate::progress::forward_job(updates, job.clone(), on_progress);
    Ok(job)
}

#[tauri::command]
pub async fn list_jobs(state: State<'_, AppState>, limit: u32) -> IpcResult<Vec<JobView>> {
    Ok(state.console.store().jobs(limit.clamp(1, 1000))?)
}

#[tauri::command]
pub async fn job_events(state: State<'_, AppState>, job_id: i64) -> IpcResult<Vec<JobEvent>> {
    Ok(state.console.store().job_events(job_id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_list_over_the_limits_is_refused_whole() {
        let many: String = (0..=MAX_IMPORTED_DEVICES)
            .map(|n| format!("{}\n", 100_000_000 + n))
            .collect();
        let err = parse_device_list(&many).unwrap_err();
        assert_eq!(
            err.message,
            "The list has 10001 devices; at most 10000 are imported at once."
        );
        let long = format!("527776559,{}\n", "x".repeat(1 << 20));
        assert!(parse_device_list(&long)
            .unwrap_err()
            .message
            .starts_with("The device list is 1.0 MiB; at most 1 MiB"));
        assert_eq!(parse_device_list("527776559,Pump 1\n").unwrap().len(), 1);
    }
}
