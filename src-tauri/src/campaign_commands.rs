//! Command adapters for the firmware library, campaigns and the audit log. No business logic here: each
//! command is one engine call (campaign commands that start work also hand the campaign to a runner).

use ota_core::campaign;
use ota_core::campaign::model::{
    CampaignDashboard, CampaignDevicePage, CampaignDeviceQuery, CampaignView, NewCampaign,
    Preflight,
};
use ota_core::library::{self, FirmwareEntry};
use ota_core::store::{AuditEntry, AuditQuery};
use tauri::State;

use crate::error::IpcResult;
use crate::state::AppState;

#[tauri::command]
pub async fn list_firmware(state: State<'_, AppState>) -> IpcResult<Vec<FirmwareEntry>> {
    Ok(library::list_firmware(&state.console)?)
}

#[tauri::command]
pub async fn delete_firmware(state: State<'_, AppState>, id: i64) -> IpcResult<FirmwareEntry> {
    Ok(library::delete_firmware(&state.console, id)?)
}

#[tauri::command]
pub async fn publish_firmware(
    state: State<'_, AppState>,
    firmware_id: i64,
    account_id: i64,
) -> IpcResult<FirmwareEntry> {
    state.wait_ready().await;
    Ok(library::publish_firmware(state.console.clone(), firmware_id, account_id).await?)
}

#[tauri::command]
pub async fn campaign_preflight(
    state: State<'_, AppState>,
    campaign: NewCampaign,
) -> IpcResult<Preflight> {
    Ok(campaign::preflight(&state.console, &campaign)?)
}

#[tauri::command]
pub async fn create_campaign(
    state: State<'_, AppState>,
    campaign: NewCampaign,
) -> IpcResult<CampaignView> {
    Ok(campaign::create(&state.console, &campaign)?)
}

#[tauri::command]
pub async fn list_campaigns(state: State<'_, AppState>) -> IpcResult<Vec<CampaignView>> {
    Ok(campaign::list(&state.console)?)
}

#[tauri::command]
pub async fn campaign_dashboard(
    state: State<'_, AppState>,
    id: i64,
) -> IpcResult<CampaignDashboard> {
    Ok(campaign::dashboard(&state.console, id)?)
}

#[tauri::command]
pub async fn campaign_devices(
    state: State<'_, AppState>,
    id: i64,
    query: CampaignDeviceQuery,
) -> IpcResult<CampaignDevicePage> {
    Ok(campaign::devices(&state.console, id, &query)?)
}

#[tauri::command]
pub async fn start_campaign(state: State<'_, AppState>, id: i64) -> IpcResult<CampaignView> {
    state.wait_ready().await;
    let view = campaign::start(&state.console, id)?;
    campaign::spawn(state.console.clone(), id);
    Ok(view)
}

#[tauri::command]
pub async fn pause_campaign(state: State<'_, AppState>, id: i64) -> IpcResult<CampaignView> {
    Ok(campaign::pause(&state.console, id)?)
}

#[tauri::command]
pub async fn resume_campaign(state: State<'_, AppState>, id: i64) -> IpcResult<CampaignView> {
    let view = campaign::resume(&state.console, id)?;
    campaign::spawn(state.console.clone(), id);
    Ok(view)
}

#[tauri::command]
pub async fn cancel_campaign(state: State<'_, AppState>, id: i64) -> IpcResult<CampaignView> {
    Ok(campaign::cancel(&state.console, id)?)
}

#[tauri::command]
pub async fn retry_failed_devices(state: State<'_, AppState>, id: i64) -> IpcResult<CampaignView> {
    let view = campaign::retry_failed(&state.console, id)?;
    campaign::spawn(state.console.clone(), id);
    Ok(view)
}

#[tauri::command]
pub async fn delete_campaign(state: State<'_, AppState>, id: i64) -> IpcResult<CampaignView> {
    Ok(campaign::delete(&state.console, id)?)
}

#[tauri::command]
pub async fn list_audit(
    state: State<'_, AppState>,
    query: AuditQuery,
) -> IpcResult<Vec<AuditEntry>> {
    let mut query = query;
    if query.limit == 0 || query.limit > 5_000 {
        query.limit = 5_000;
    }
    Ok(state.console.store().audit_query(&query)?)
}
