//! Command adapters for tags, cohorts and closing a continuous campaign: one use-case call each.

use ota_app::campaigns::CampaignView;
use ota_app::cohorts::{Cohort, DeviceKey, NewCohort, TagCount};
use tauri::State;

use crate::error::IpcResult;
use crate::state::Shared;

#[tauri::command]
pub async fn tag_devices(
    app: State<'_, Shared>,
    devices: Vec<DeviceKey>,
    add: Vec<String>,
    remove: Vec<String>,
) -> IpcResult<u32> {
    Ok(app.tag_devices(&devices, &add, &remove)?)
}

#[tauri::command]
pub async fn list_tags(app: State<'_, Shared>) -> IpcResult<Vec<TagCount>> {
    Ok(app.list_tags()?)
}

#[tauri::command]
pub async fn create_cohort(app: State<'_, Shared>, cohort: NewCohort) -> IpcResult<Cohort> {
    Ok(app.create_cohort(&cohort)?)
}

#[tauri::command]
pub async fn list_cohorts(app: State<'_, Shared>) -> IpcResult<Vec<Cohort>> {
    Ok(app.list_cohorts()?)
}

#[tauri::command]
pub async fn delete_cohort(app: State<'_, Shared>, id: i64) -> IpcResult<()> {
    app.delete_cohort(id)?;
    Ok(())
}

#[tauri::command]
pub async fn close_campaign(app: State<'_, Shared>, id: i64) -> IpcResult<CampaignView> {
    Ok(app.close_campaign(id)?)
}
