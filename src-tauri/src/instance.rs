//! One window per data folder. A second launch on a folder whose window is open brings that window to
//! the front and exits; a launch on another folder (`OTA_CONSOLE_DATA_DIR`) opens its own window.
//!
//! Two mechanisms, because each covers what the other cannot:
//! - the official single-instance plugin hands the second launch over to the first window. On Linux it
//!   finds the first by a D-Bus name, which is made per data folder here; on Windows and macOS it keys by
//!   the app's identifier only, so it is used there for the default data folder alone (a launch on another
//!   folder must not be handed to the default folder's window);
//! - the data-folder lock (`ota_app::startup::folder_lock`), taken before the store is opened, is what guarantees
//!   one window per folder everywhere (no D-Bus session, another folder on Windows or macOS): a launch that
//!   cannot take it says the folder is in use and exits.

use std::path::Path;
use std::time::Duration;

use ota_app::startup::{folder_lock, FolderLockError, WindowLock};
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::{DialogExt, MessageDialogKind};

/// How long a starting window waits for the lock: `otactl` holds it (shared) for an instant when it
/// checks whether a window is open, which must not look like a window.
const LOCK_PATIENCE: Duration = Duration::from_secs(2);

/// The plugin that hands a second launch on this folder over to the first window, where it applies.
pub fn single_instance_plugin<R: Runtime>(
    data_dir: &Path,
    identifier: &str,
) -> Option<TauriPlugin<R>> {
    let builder = tauri_plugin_single_instance::Builder::new()
        .callback(|app: &AppHandle<R>, _args, _cwd| bring_to_front(app));
    if cfg!(target_os = "linux") {
        // "dev.otaconsole.desktop.f0123456789abcdef": a D-Bus name element must not start with a digit.
        let per_folder = format!("{identifier}.f{}", folder_lock::folder_id(data_dir));
        Some(builder.dbus_id(per_folder).build())
    } else if uses_default_folder() {
        Some(builder.build())
    } else {
        None
    }
}

fn uses_default_folder() -> bool {
    std::env::var_os(ota_app::startup::DATA_DIR_ENV).is_none_or(|dir| dir.is_empty())
}

/// What the first window does when the same folder is launched again.
fn bring_to_front<R: Runtime>(app: &AppHandle<R>) {
    tracing::info!("another launch on this data folder: brought this window to the front");
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Says on the terminal that the folder's window is open, before the plugin hands this launch over to it
/// (the hand-over ends this process without a word).
pub fn announce_hand_over(data_dir: &Path) {
    if let Ok(Some(window)) = folder_lock::window_in(data_dir) {
        let message = format!(
            "OTA Console: the data folder {} is in use by {}; bringing its window to the front.",
            data_dir.display(),
            window.describe()
        );
        eprintln!("{message}");
    }
}

/// Takes the folder's lock for this window's lifetime.
pub fn claim_folder(data_dir: &Path) -> Result<WindowLock, FolderLockError> {
    WindowLock::acquire_patiently(data_dir, LOCK_PATIENCE)
}

/// The folder is in use and this launch could not be handed over: says so (terminal, log and a message
/// box, since a launch from the desktop has no terminal) and exits once the message is closed.
pub fn refuse_in_use<R: Runtime>(app: &AppHandle<R>, err: &FolderLockError) {
    let message = format!(
        "{err}. Close that window first, or set {} to another folder.",
        ota_app::startup::DATA_DIR_ENV
    );
    eprintln!("OTA Console: {message}");
    tracing::warn!(error = %err, "the data folder is in use; this launch exits");
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.hide();
    }
    let handle = app.clone();
    app.dialog()
        .message(message)
        .title("OTA Console")
        .kind(MessageDialogKind::Warning)
        .show(move |_| handle.exit(1));
}
