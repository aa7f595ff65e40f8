//! The window reopens with the size and position it was closed with (the official window-state plugin,
//! used from Rust only: the webview is granted none of its commands). The plugin writes its file when the
//! app exits normally; [`save_when_changed`] also writes it shortly after each move or resize, so a crash
//! or a killed process still reopens where the window was.
//!
//! The state is kept in the data folder rather than the plugin's default, the OS config folder, which every
//! data folder shares: a run with its own `OTA_CONSOLE_DATA_DIR` (an end-to-end test in a fresh temp folder,
//! a portable install) starts from its own state, so tests always open at the configured 1280-pixel size.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tauri::plugin::TauriPlugin;
use tauri::{Manager, Runtime, WebviewWindow, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, Builder, StateFlags};

const FILE_NAME: &str = "window-state.json";

/// A drag or a resize sends a stream of events: the file is written once they stop for this long.
const SAVE_AFTER: Duration = Duration::from_millis(400);

/// What is remembered: size, position and whether it was maximized. Not visibility or decorations, so a
/// state saved in an odd moment can never bring the window back hidden or without its frame.
fn remembered() -> StateFlags {
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED
}

/// The state file, as an absolute path: the plugin joins its file name onto the config folder, and joining
/// an absolute path yields that path.
pub fn state_file(data_dir: &Path) -> PathBuf {
    let absolute = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    absolute.join(FILE_NAME)
}

pub fn plugin<R: Runtime>(data_dir: &Path) -> TauriPlugin<R> {
    let builder = Builder::new().with_state_flags(remembered());
    let file = state_file(data_dir);
    match file.to_str() {
        Some(path) => builder.with_filename(path),
        None => {
            // The plugin takes a String: a folder whose name is not Unicode keeps the plugin's default place.
            tracing::warn!(data_dir = %data_dir.display(), "window state kept in the OS config folder");
            builder
        }
    }
    .build()
}

/// Writes the window state once a move or resize has settled.
pub fn save_when_changed<R: Runtime>(window: &WebviewWindow<R>) {
    let app = window.app_handle().clone();
    let latest_change = Arc::new(AtomicU64::new(0));
    window.on_window_event(move |event| {
        if !matches!(event, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
            return;
        }
        let change = latest_change.fetch_add(1, Ordering::SeqCst) + 1;
        let latest_change = latest_change.clone();
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(SAVE_AFTER).await;
            if latest_change.load(Ordering::SeqCst) != change {
                return; // A newer change will save.
            }
            if let Err(err) = app.save_window_state(remembered()) {
                tracing::warn!(error = %err, "could not save the window's size and position");
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_lives_in_the_data_folder_whatever_config_folder_the_plugin_joins_it_to() {
        let data_dir = std::env::temp_dir().join("ota-e2e-app-abc");
        let file = state_file(&data_dir);
        assert_eq!(file, data_dir.join("window-state.json"));
        let config_dir = std::env::temp_dir()
            .join("config")
            .join("dev.otaconsole.desktop");
        assert_eq!(config_dir.join(file.to_str().unwrap()), file);
    }

    #[test]
    fn a_relative_data_folder_still_gives_a_path_outside_the_config_folder() {
        let file = state_file(Path::new("portable-data"));
        assert!(file.is_absolute(), "{}", file.display());
        assert!(file.ends_with("portable-data/window-state.json"));
    }

    #[test]
    fn visibility_and_decorations_are_never_restored() {
        let flags = remembered();
        assert!(flags.contains(StateFlags::SIZE | StateFlags::POSITION));
        assert!(!flags.contains(StateFlags::VISIBLE));
        assert!(!flags.contains(StateFlags::DECORATIONS));
    }
}
