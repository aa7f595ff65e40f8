//! Command adapters for the firmware library, campaigns and the audit log: one use-case call each (the
//! use-case layer runs a started campaign in the background).

use ota_app::audit::{AuditEntry, AuditQuery};
use ota_app::campaigns::{
    CampaignDashboard, CampaignDevicePage, CampaignDeviceQuery, CampaignPlan, CampaignStart,
    CampaignView, NewCampaign,
};
use ota_app::firmware::{FirmwareEntry, PublishTo};
use ota_app::fleet::FleetVersions;
use tauri::State;

use crate::error::IpcResult;
use crate::state::Shared;

#[tauri::command]
pub async fn list_firmware(app: State<'_, Shared>) -> IpcResult<Vec<FirmwareEntry>> {
    Ok(app.firmware()?)
}

#[tauri::command]
pub async fn delete_firmware(app: State<'_, Shared>, id: i64) -> IpcResult<FirmwareEntry> {
    Ok(app.delete_firmware(id)?)
}

#[tauri::command]
pub async fn publish_firmware(
    app: State<'_, Shared>,
    firmware_id: i64,
    account_id: i64,
) -> IpcResult<FirmwareEntry> {
    let published = app
        .publish_firmware(firmware_id, PublishTo::Account(account_id))
        .await?;
    Ok(published.entry)
}

/// What the campaign would do if created and started now: pre-flight, and per wave its devices and
/// earliest start.
#[tauri::command]
pub async fn plan_campaign(
    app: State<'_, Shared>,
    campaign: NewCampaign,
) -> IpcResult<CampaignPlan> {
    Ok(app.plan_campaign(&campaign)?)
}

/// Firmware versions per cloud and model, success per version, failures per day.
#[tauri::command]
pub async fn fleet_versions(app: State<'_, Shared>) -> IpcResult<FleetVersions> {
    Ok(app.fleet_versions()?)
}

#[tauri::command]
pub async fn create_campaign(
    app: State<'_, Shared>,
    campaign: NewCampaign,
) -> IpcResult<CampaignView> {
    Ok(app.create_campaign(&campaign)?)
}

#[tauri::command]
pub async fn list_campaigns(app: State<'_, Shared>) -> IpcResult<Vec<CampaignView>> {
    Ok(app.campaigns()?)
}

#[tauri::command]
pub async fn campaign_dashboard(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignDashboard> {
    Ok(app.campaign_dashboard(id)?)
}

#[tauri::command]
pub async fn campaign_devices(
    app: State<'_, Shared>,
    id: i64,
    query: CampaignDeviceQuery,
) -> IpcResult<CampaignDevicePage> {
    Ok(app.campaign_devices(id, &query)?)
}

#[tauri::command]
pub async fn start_campaign(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignView> {
    Ok(match app.start_campaign(id).await? {
        CampaignStart::Running(view) | CampaignStart::AlreadyFinished(view) => view,
    })
}

#[tauri::command]
pub async fn pause_campaign(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignView> {
    Ok(app.pause_campaign(id)?)
}

#[tauri::command]
pub async fn resume_campaign(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignView> {
    Ok(app.resume_campaign(id).await?)
}

#[tauri::command]
pub async fn cancel_campaign(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignView> {
    Ok(app.cancel_campaign(id)?)
}

/// A campaign created with "require approval", approved by this user (refused to its creator).
#[tauri::command]
pub async fn approve_campaign(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignView> {
    Ok(app.approve_campaign(id)?)
}

/// Manual gate: the campaign's next wave may start.
#[tauri::command]
pub async fn approve_wave(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignView> {
    Ok(app.approve_wave(id)?)
}

#[tauri::command]
pub async fn retry_failed_devices(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignView> {
    Ok(app.retry_failed_devices(id).await?)
}

#[tauri::command]
pub async fn delete_campaign(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignView> {
    Ok(app.delete_campaign(id)?)
}

#[tauri::command]
pub async fn list_audit(app: State<'_, Shared>, query: AuditQuery) -> IpcResult<Vec<AuditEntry>> {
    Ok(app.audit(&query)?)
}
