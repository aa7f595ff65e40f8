//! Command adapters: argument in, one use-case call, answer out. No business logic here.

use ota_app::devices::ImportLimits;
use ota_app::jobs::{JobEvent, JobView};
use ota_app::{Account, DevicePage, DeviceQuery, FleetFreshness, NewAccount, Secret};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;

use crate::error::IpcResult;
use crate::progress::{forward_job, JOB_UPDATE_GAP};
use crate::state::Shared;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    /// True when the built-in simulator backs the sandbox accounts.
    pub sandbox: bool,
    pub sim_url: Option<String>,
}

#[tauri::command]
pub async fn app_info(app: State<'_, Shared>) -> IpcResult<AppInfo> {
    app.wait_ready().await;
    let sandbox = app.sandbox_status();
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        data_dir: app.data_dir().display().to_string(),
        sandbox: sandbox.active,
        sim_url: sandbox.sim_url,
    })
}

#[tauri::command]
pub async fn list_devices(app: State<'_, Shared>, query: DeviceQuery) -> IpcResult<DevicePage> {
    Ok(app.devices(&query)?)
}

#[tauri::command]
pub async fn fleet_freshness(app: State<'_, Shared>) -> IpcResult<FleetFreshness> {
    Ok(app.freshness()?)
}

#[tauri::command]
pub async fn refresh_fleet(app: State<'_, Shared>) -> IpcResult<FleetFreshness> {
    Ok(app.refresh_fleet().await?)
}

#[tauri::command]
pub async fn list_accounts(app: State<'_, Shared>) -> IpcResult<Vec<Account>> {
    Ok(app.accounts()?)
}

#[tauri::command]
pub async fn add_account(
    app: State<'_, Shared>,
    account: NewAccount,
    secret: String,
) -> IpcResult<Account> {
    // The window always signs in first: a wrong password is shown in the form, not later.
    let added = app.add_account(&account, Secret::new(secret), true).await?;
    Ok(added.account)
}

#[tauri::command]
pub async fn remove_account(app: State<'_, Shared>, name: String) -> IpcResult<Account> {
    Ok(app.remove_account(&name)?)
}

#[tauri::command]
pub async fn import_devices(
    app: State<'_, Shared>,
    account_id: i64,
    csv: String,
) -> IpcResult<usize> {
    Ok(app.import_devices(account_id, &csv, ImportLimits::FORM)?)
}

#[tauri::command]
pub async fn start_vicohome_update(
    app: State<'_, Shared>,
    account_id: i64,
    serial: String,
    on_progress: Channel<JobView>,
) -> IpcResult<JobView> {
    let (job, _) = app
        .start_vicohome_update(Some(account_id), &serial, JOB_UPDATE_GAP)
        .await?;
    let first = job.first.clone();
    forward_job(job, on_progress);
    Ok(first)
}

#[tauri::command]
pub async fn watch_job(
    app: State<'_, Shared>,
    job_id: i64,
    on_progress: Channel<JobView>,
) -> IpcResult<JobView> {
    let job = app.watch_job(job_id, JOB_UPDATE_GAP)?;
    let first = job.first.clone();
    forward_job(job, on_progress);
    Ok(first)
}

#[tauri::command]
pub async fn list_jobs(app: State<'_, Shared>, limit: u32) -> IpcResult<Vec<JobView>> {
    Ok(app.jobs(limit)?)
}

#[tauri::command]
pub async fn job_events(app: State<'_, Shared>, job_id: i64) -> IpcResult<Vec<JobEvent>> {
    Ok(app.job_events(job_id)?)
}
