//! OTA Console desktop shell: wires the engine (`ota-core`) and the cloud clients (`ota-clouds`) to the
//! window. Commands only adapt; everything that decides lives in the engine crates.

mod bindings;
mod campaign_commands;
mod chosen_files;
mod commands;
mod dialogs;
mod error;
mod file_commands;
mod instance;
mod logging;
mod onenet_commands;
mod progress;
mod quectel_commands;
mod sandbox;
#[cfg(test)]
mod security_tests;
mod state;
mod window_state;

use std::sync::Arc;

use ota_core::folder_lock::FolderLockError;
use ota_core::{Console, Keychain, Store};
use tauri::Manager;

use crate::state::{AppState, SandboxStatus};

pub fn run() {
    let data_dir = match ota_core::paths::data_dir() {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("OTA Console cannot start: {}", err.display_line());
            std::process::exit(1);
        }
    };
    logging::init(&data_dir);
    tracing::info!(data_dir = %data_dir.display(), "starting OTA Console");
    instance::announce_hand_over(&data_dir);

    let context = tauri::generate_context!();
    let settings = sandbox::SandboxSettings::from_env();
    let (ready_tx, ready_rx) = tokio::sync::watch::channel(false);
    let sandbox_status = Arc::new(std::sync::Mutex::new(SandboxStatus::default()));

    let mut builder = tauri::Builder::default();
    // First: a second launch on this folder is handed over to its window before anything else starts.
    if let Some(plugin) = instance::single_instance_plugin(&data_dir, &context.config().identifier)
    {
        builder = builder.plugin(plugin);
    }
    let result = builder
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(window_state::plugin(&data_dir))
        .manage(onenet_commands::OnenetDownloads::default())
        .manage(chosen_files::ChosenFiles::default())
        .setup(move |app| {
            // Before the store is opened: one window per data folder.
            let folder_lock = match instance::claim_folder(&data_dir) {
                Ok(lock) => lock,
                Err(err @ FolderLockError::InUse { .. }) => {
                    instance::refuse_in_use(app.handle(), &err);
                    return Ok(());
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot lock the data folder");
                    eprintln!("OTA Console cannot start: {err}");
                    std::process::exit(1);
                }
            };
            // Held for as long as the app runs; the OS releases it however the process ends.
            app.manage(folder_lock);
            let console = open_console(&data_dir, &settings);
            app.manage(AppState {
                console: console.clone(),
                data_dir: data_dir.clone(),
                ready: ready_rx,
                sandbox: sandbox_status.clone(),
            });
            progress::forward_data_changes(app.handle().clone(), console.clone());
            if let Some(window) = app.get_webview_window("main") {
                window_state::save_when_changed(&window);
                chosen_files::hand_out_dropped_files(&window);
            }
            tauri::async_runtime::spawn(async move {
                let sim = sandbox::start(&console, &settings, &sandbox_status).await;
                let _ = ready_tx.send(true);
                match ota_core::jobs::resume_active_jobs(&console) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(jobs = n, "resumed watching unfinished jobs"),
                    Err(err) => {
                        tracing::error!(error = %err.display_line(), "could not resume jobs")
                    }
                }
                match ota_core::campaign::resume_running(&console) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(campaigns = n, "resumed running campaigns"),
                    Err(err) => {
                        tracing::error!(error = %err.display_line(), "could not resume campaigns")
                    }
                }
                background_refresh(console).await;
                // Keeps the in-process simulator alive as long as the app runs.
                drop(sim);
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_devices,
            commands::fleet_freshness,
            commands::refresh_fleet,
            commands::list_accounts,
            commands::add_account,
            commands::remove_account,
            commands::import_devices,
            commands::start_vicohome_update,
            commands::watch_job,
            commands::list_jobs,
            commands::job_events,
            onenet_commands::onenet_result_codes,
            onenet_commands::onenet_check,
            onenet_commands::onenet_fetch,
            onenet_commands::onenet_pause,
            onenet_commands::onenet_report,
            quectel_commands::list_quectel_plans,
            quectel_commands::act_on_quectel_plans,
            quectel_commands::quectel_plan_details,
            quectel_commands::get_quectel_auto_upgrade,
            quectel_commands::set_quectel_auto_upgrade,
            quectel_commands::delete_quectel_auto_upgrade,
            quectel_commands::quectel_ble_statuses,
            quectel_commands::quectel_ble_fetch,
            quectel_commands::quectel_ble_report,
            quectel_commands::quectel_ble_download,
            campaign_commands::list_firmware,
            file_commands::choose_firmware_file,
            file_commands::add_firmware,
            file_commands::choose_device_csv,
            campaign_commands::delete_firmware,
            campaign_commands::publish_firmware,
            campaign_commands::campaign_preflight,
            campaign_commands::create_campaign,
            campaign_commands::list_campaigns,
            campaign_commands::campaign_dashboard,
            campaign_commands::campaign_devices,
            campaign_commands::start_campaign,
            campaign_commands::pause_campaign,
            campaign_commands::resume_campaign,
            campaign_commands::cancel_campaign,
            campaign_commands::retry_failed_devices,
            campaign_commands::delete_campaign,
            campaign_commands::list_audit,
            file_commands::export_audit,
        ])
        .run(context);
    if let Err(err) = result {
        tracing::error!(error = %err, "the window could not start");
        eprintln!("OTA Console could not start its window: {err}");
        std::process::exit(1);
    }
}

/// The engine over the folder's store; the app cannot run without it, so a failure ends the process.
fn open_console(data_dir: &std::path::Path, settings: &sandbox::SandboxSettings) -> Arc<Console> {
    let store = match Store::open_in(data_dir) {
        Ok(store) => store,
        Err(err) => {
            tracing::error!(error = %err, "cannot open the local database");
            eprintln!(
                "OTA Console cannot open its database in {}: {err}",
                data_dir.display()
            );
            std::process::exit(1);
        }
    };
    Arc::new(
        Console::new(
            store,
            Arc::new(Keychain::default()),
            Arc::new(ota_clouds::CloudConnector::default()),
        )
        .with_job_options(ota_core::jobs::JobOptions::scaled(settings.time_scale)),
    )
}

/// Refreshes the fleet now and then every minute, so the list stays live without the window asking.
async fn background_refresh(console: Arc<Console>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(err) = console.refresh_fleet().await {
            tracing::warn!(error = %err.display_line(), "background refresh failed");
        }
    }
}
