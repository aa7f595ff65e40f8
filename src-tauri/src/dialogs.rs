//! File dialogs opened by Rust (the dialog plugin's Rust API): the path comes from the user's choice in
//! the system dialog, never from the webview, which holds no dialog permission.
//!
//! End-to-end tests cannot drive a native dialog through WebDriver. In debug builds only, and only when
//! `OTA_CONSOLE_E2E_DIALOG_DIR` is set, the "dialog" answers from that folder instead: the test writes the
//! name of a file in it to `<dir>/answer` before the click, and each dialog takes that answer (and removes
//! it; no answer is the user cancelling) and notes what it was asked in `<dir>/asked.log`. Release builds
//! contain no trace of this.

use std::path::PathBuf;

use ota_app::ApiError;
use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::{DialogExt, FileDialogBuilder, FilePath};

/// Which dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Open,
    Save,
}

/// What the dialog shows.
pub struct Ask<'a> {
    pub purpose: Purpose,
    pub title: &'a str,
    /// The filter's name and extensions (without dots).
    pub filter: Option<(&'a str, &'a [&'a str])>,
    /// A save dialog's proposed file name.
    pub file_name: Option<&'a str>,
}

/// Shows the dialog and answers the chosen path, or `None` when the user closed it.
pub async fn ask(app: &AppHandle, ask: Ask<'_>) -> Result<Option<PathBuf>, ApiError> {
    #[cfg(debug_assertions)]
    if let Some(dir) = e2e::answer_dir() {
        return e2e::answer(&dir, &ask);
    }
    let mut builder: FileDialogBuilder<tauri::Wry> = app.dialog().file().set_title(ask.title);
    if let Some(window) = app.get_webview_window("main") {
        builder = builder.set_parent(&window);
    }
    if let Some((name, extensions)) = ask.filter {
        builder = builder.add_filter(name, extensions);
    }
    if let Some(file_name) = ask.file_name {
        builder = builder.set_file_name(file_name);
    }
    let (tx, rx) = tokio::sync::oneshot::channel::<Option<FilePath>>();
    let answer = move |chosen: Option<FilePath>| {
        let _ = tx.send(chosen);
    };
    match ask.purpose {
        Purpose::Open => builder.pick_file(answer),
        Purpose::Save => builder.save_file(answer),
    }
    let chosen = rx
        .await
        .map_err(|_| ApiError::internal("The file dialog closed without an answer."))?;
    chosen
        .map(|path| {
            path.into_path().map_err(|e| {
                ApiError::validation(format!("The chosen file has no local path: {e}."))
            })
        })
        .transpose()
}

#[cfg(debug_assertions)]
pub mod e2e {
    //! The end-to-end tests' stand-in for the system dialog (debug builds only; see the module above).

    use std::io::Write;
    use std::path::{Path, PathBuf};

    use ota_app::ApiError;

    use super::{Ask, Purpose};

    pub const DIALOG_DIR_ENV: &str = "OTA_CONSOLE_E2E_DIALOG_DIR";
    const ANSWER_FILE: &str = "answer";
    const ASKED_LOG: &str = "asked.log";

    pub fn answer_dir() -> Option<PathBuf> {
        std::env::var_os(DIALOG_DIR_ENV)
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
    }

    pub fn answer(dir: &Path, ask: &Ask<'_>) -> Result<Option<PathBuf>, ApiError> {
        let purpose = match ask.purpose {
            Purpose::Open => "open",
            Purpose::Save => "save",
        };
        let asked = format!(
            "{purpose}\t{}\t{}\n",
            ask.title,
            ask.file_name.unwrap_or("")
        );
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(ASKED_LOG))
            .and_then(|mut log| log.write_all(asked.as_bytes()))
            .map_err(|e| {
                ApiError::internal(format!("e2e dialog: cannot note the question: {e}"))
            })?;
        let answer_file = dir.join(ANSWER_FILE);
        let name = match std::fs::read_to_string(&answer_file) {
            Ok(text) => text.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ApiError::internal(format!("e2e dialog: {e}"))),
        };
        let _ = std::fs::remove_file(&answer_file);
        if name.is_empty() {
            return Ok(None);
        }
        // The answer names a file of the folder, as a user clicks one in a dialog showing that folder.
        let plain = Path::new(&name)
            .file_name()
            .is_some_and(|n| n == name.as_str());
        if !plain {
            return Err(ApiError::internal(format!(
                "e2e dialog: “{name}” is not a file name in {}",
                dir.display()
            )));
        }
        Ok(Some(dir.join(name)))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn open() -> Ask<'static> {
            Ask {
                purpose: Purpose::Open,
                title: "Add firmware",
                filter: None,
                file_name: None,
            }
        }

        #[test]
        fn answers_once_with_a_file_of_its_folder() {
            let dir = tempfile::tempdir().unwrap();
            assert_eq!(
                answer(dir.path(), &open()).unwrap(),
                None,
                "no answer: cancelled"
            );
            std::fs::write(dir.path().join(ANSWER_FILE), "fw.bin\n").unwrap();
            assert_eq!(
                answer(dir.path(), &open()).unwrap(),
                Some(dir.path().join("fw.bin"))
            );
            assert_eq!(answer(dir.path(), &open()).unwrap(), None, "used up");
            let save = Ask {
                purpose: Purpose::Save,
                title: "Export",
                filter: None,
                file_name: Some("audit.csv"),
            };
            assert_eq!(answer(dir.path(), &save).unwrap(), None);
            let log = std::fs::read_to_string(dir.path().join(ASKED_LOG)).unwrap();
            assert_eq!(
                log,
                "open\tAdd firmware\t\nopen\tAdd firmware\t\nopen\tAdd firmware\t\nsave\tExport\taudit.csv\n"
            );
        }

        #[test]
        fn an_answer_outside_its_folder_is_refused() {
            let dir = tempfile::tempdir().unwrap();
            for bad in ["../escape.bin", "/etc/passwd", "sub/fw.bin", ".."] {
                std::fs::write(dir.path().join(ANSWER_FILE), bad).unwrap();
                assert!(answer(dir.path(), &open()).is_err(), "{bad}");
            }
        }
    }
}
