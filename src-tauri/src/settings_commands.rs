//! Command adapters for Settings → Team database and Webhooks: one use-case call each (restarting the
//! window is the shell's own business).

use ota_app::team::TeamDatabaseStatus;
use ota_app::webhooks::{NewWebhook, Webhook, WebhookDelivery};
use ota_app::Secret;
use tauri::{AppHandle, State};

use crate::error::IpcResult;
use crate::state::Shared;

#[tauri::command]
pub async fn team_database_status(app: State<'_, Shared>) -> IpcResult<TeamDatabaseStatus> {
    Ok(app.team_database_status().await?)
}

/// Checked and connected to before anything is kept; used from the next start.
#[tauri::command]
pub async fn save_team_database(
    app: State<'_, Shared>,
    url: String,
    password: String,
) -> IpcResult<TeamDatabaseStatus> {
    let password = Some(Secret::new(password)).filter(|p| !p.is_empty());
    Ok(app.save_team_database(&url, password).await?)
}

#[tauri::command]
pub async fn clear_team_database(app: State<'_, Shared>) -> IpcResult<TeamDatabaseStatus> {
    Ok(app.clear_team_database().await?)
}

/// Ends this window and starts it again (the database is chosen at start).
#[tauri::command]
pub fn restart_app(handle: AppHandle) {
    tracing::info!("restarting at the user's request");
    handle.request_restart();
}

#[tauri::command]
pub async fn list_webhooks(app: State<'_, Shared>) -> IpcResult<Vec<Webhook>> {
    Ok(app.webhooks()?)
}

/// The secret goes straight to the keychain.
#[tauri::command]
pub async fn add_webhook(
    app: State<'_, Shared>,
    webhook: NewWebhook,
    secret: String,
) -> IpcResult<Webhook> {
    Ok(app.add_webhook(&webhook, Secret::new(secret))?)
}

#[tauri::command]
pub async fn remove_webhook(app: State<'_, Shared>, id: i64) -> IpcResult<Webhook> {
    Ok(app.remove_webhook(id)?)
}

#[tauri::command]
pub async fn webhook_deliveries(
    app: State<'_, Shared>,
    webhook_id: Option<i64>,
    limit: u32,
) -> IpcResult<Vec<WebhookDelivery>> {
    Ok(app.webhook_deliveries(webhook_id, limit)?)
}
