//! OTA Console desktop shell: the window over the use-case layer (`ota-app`). Commands only adapt (IPC
//! types in, one use-case call, IPC types out); everything that decides lives in the engine crates.

mod bindings;
mod campaign_commands;
mod chosen_files;
mod cohort_commands;
mod commands;
mod dialogs;
mod error;
mod file_commands;
mod instance;
mod logging;
mod onenet_commands;
mod progress;
mod quectel_commands;
#[cfg(test)]
mod security_tests;
mod settings_commands;
mod state;
mod vicohome_commands;
mod window_state;

use ota_app::startup::FolderLockError;
use ota_app::{App, Launcher, OpenOptions, SandboxChoice};
use tauri::Manager;

pub fn run() {
    let data_dir = match ota_app::startup::data_dir() {
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
            let app_state = open_app(&data_dir);
            app.manage(app_state.clone());
            progress::forward_data_changes(app.handle().clone(), app_state.clone());
            if let Some(window) = app.get_webview_window("main") {
                window_state::save_when_changed(&window);
                chosen_files::hand_out_dropped_files(&window);
            }
            // The sandbox, resumed jobs and campaigns, and a refresh every minute, after the window shows.
            tauri::async_runtime::spawn(app_state.run_in_background());
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
            vicohome_commands::vicohome_update_plan,
            vicohome_commands::start_vicohome_updates,
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
            quectel_commands::check_quectel_appointment,
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
            campaign_commands::plan_campaign,
            campaign_commands::fleet_versions,
            file_commands::export_fleet_versions,
            campaign_commands::create_campaign,
            campaign_commands::list_campaigns,
            campaign_commands::campaign_dashboard,
            campaign_commands::campaign_devices,
            campaign_commands::start_campaign,
            campaign_commands::pause_campaign,
            campaign_commands::resume_campaign,
            campaign_commands::cancel_campaign,
            campaign_commands::approve_campaign,
            campaign_commands::approve_wave,
            campaign_commands::retry_failed_devices,
            campaign_commands::delete_campaign,
            cohort_commands::close_campaign,
            cohort_commands::tag_devices,
            cohort_commands::list_tags,
            cohort_commands::create_cohort,
            cohort_commands::list_cohorts,
            cohort_commands::delete_cohort,
            campaign_commands::list_audit,
            file_commands::export_audit,
            settings_commands::team_database_status,
            settings_commands::save_team_database,
            settings_commands::clear_team_database,
            settings_commands::restart_app,
            settings_commands::list_webhooks,
            settings_commands::add_webhook,
            settings_commands::remove_webhook,
            settings_commands::webhook_deliveries,
        ])
        .run(context);
    if let Err(err) = result {
        tracing::error!(error = %err, "the window could not start");
        eprintln!("OTA Console could not start its window: {err}");
        std::process::exit(1);
    }
}

/// The use-case layer over the folder's store; the app cannot run without it, so a failure ends the
/// process. Team mode: `OTA_CONSOLE_DATABASE_URL`, else the team database saved in Settings; one that
/// cannot be opened leaves the window on this desk's own file, saying why (Settings and a start-up notice).
fn open_app(data_dir: &std::path::Path) -> state::Shared {
    let options = OpenOptions {
        data_dir: Some(data_dir.to_path_buf()),
        launcher: Launcher::Window,
        sandbox: SandboxChoice::window_from_env(),
        account: None,
        // Team mode: OTA_CONSOLE_DATABASE_URL (as for otactl), else the URL saved in Settings.
        database: ota_app::TeamDatabase::for_window(data_dir),
        actor: None,
    };
    match tauri::async_runtime::block_on(App::open(options)) {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = %err.display_line(), "cannot open the local database");
            eprintln!(
                "OTA Console cannot open its database in {}: {}",
                data_dir.display(),
                err.display_line()
            );
            std::process::exit(1);
        }
    }
}
