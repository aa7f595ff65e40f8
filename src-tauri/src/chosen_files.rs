//! One-time handles for files the user chose: the webview never names a file by its path. When the user
//! picks a file in a dialog Rust opened, or drops one on the window (Tauri hands the dropped paths to Rust),
//! Rust keeps the path and gives the webview an opaque handle and the file's name to show. The webview
//! passes the handle back to act on the file; a handle works once, for a short while, and a handle the
//! webview makes up works never.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ota_app::ApiError;
use serde::Serialize;
use tauri::{DragDropEvent, Emitter, Manager, Runtime, WebviewWindow, WindowEvent};
use ts_rs::TS;

/// Long enough to fill in a form after choosing the file; short enough that a handle does not linger.
pub const HANDLE_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Handles kept at most: the oldest goes first (each drop on the window issues one).
const MAX_OUTSTANDING: usize = 32;

/// A file the user chose, as the webview sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChosenFile {
    /// Opaque; valid once, for a few minutes.
    pub handle: String,
    /// The file's name (not its folder), to show.
    pub file_name: String,
}

struct Issued {
    path: PathBuf,
    at: Instant,
}

pub struct ChosenFiles {
    lifetime: Duration,
    issued: Mutex<HashMap<String, Issued>>,
}

impl Default for ChosenFiles {
    fn default() -> Self {
        Self::with_lifetime(HANDLE_LIFETIME)
    }
}

impl ChosenFiles {
    pub fn with_lifetime(lifetime: Duration) -> Self {
        Self {
            lifetime,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `path` under a new handle.
    pub fn issue(&self, path: PathBuf) -> ChosenFile {
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        // 128 random bits: not guessable, and never reused.
        let handle = format!("{:032x}", rand::random::<u128>());
        let now = Instant::now();
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        issued.retain(|_, kept| now.duration_since(kept.at) < self.lifetime);
        while issued.len() >= MAX_OUTSTANDING {
            let oldest = issued
                .iter()
                .min_by_key(|(_, kept)| kept.at)
                .map(|(handle, _)| handle.clone());
            match oldest {
                Some(handle) => issued.remove(&handle),
                None => break,
            };
        }
        issued.insert(handle.clone(), Issued { path, at: now });
        ChosenFile { handle, file_name }
    }

    /// The path behind `handle`, which is used up by this call.
    pub fn redeem(&self, handle: &str) -> Result<PathBuf, ApiError> {
        let kept = self
            .issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(handle);
        match kept {
            Some(kept) if kept.at.elapsed() < self.lifetime => Ok(kept.path),
            _ => Err(ApiError::validation(
                "That file is no longer at hand: choose it (or drop it on the window) again.",
            )
            .with_hint(format!(
                "A chosen file can be used once, within {} minutes.",
                self.lifetime.as_secs().div_ceil(60)
            ))),
        }
    }
}

/// The event that tells the webview a file was dropped on the window: its [`ChosenFile`].
pub const FILE_DROPPED_EVENT: &str = "file-dropped";

/// Issues a handle for the first file dropped on `window` and sends it to the webview. (Tauri also tells
/// the webview the dropped paths; with no command taking a path, they are only something to look at.)
pub fn hand_out_dropped_files<R: Runtime>(window: &WebviewWindow<R>) {
    let target = window.clone();
    window.on_window_event(move |event| {
        let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event else {
            return;
        };
        let Some(first) = paths.first() else {
            return;
        };
        let chosen = target.state::<ChosenFiles>().issue(first.clone());
        if let Err(err) = target.emit(FILE_DROPPED_EVENT, &chosen) {
            tracing::warn!(error = %err, "could not tell the window about a dropped file");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_works_once() {
        let files = ChosenFiles::default();
        let chosen = files.issue(PathBuf::from("/home/ana/fw-2.4.1.bin"));
        assert_eq!(chosen.file_name, "fw-2.4.1.bin");
        assert!(!chosen.handle.contains("fw"), "the handle tells nothing");
        assert_eq!(
            files.redeem(&chosen.handle).unwrap(),
            PathBuf::from("/home/ana/fw-2.4.1.bin")
        );
        let again = files.redeem(&chosen.handle).unwrap_err();
        assert_eq!(again.code, ota_app::ErrorKind::Validation);
        assert!(again.message.contains("choose it"), "{}", again.message);
    }

    #[test]
    fn a_handle_the_webview_makes_up_or_a_path_is_refused() {
        let files = ChosenFiles::default();
        let chosen = files.issue(PathBuf::from("/tmp/a.bin"));
        for forged in [
            "/etc/passwd",
            "../a.bin",
            "",
            "00000000000000000000000000000000",
        ] {
            assert!(files.redeem(forged).is_err(), "{forged:?}");
        }
        // The real one is still there after the forgeries.
        assert!(files.redeem(&chosen.handle).is_ok());
    }

    #[test]
    fn a_handle_expires() {
        let files = ChosenFiles::with_lifetime(Duration::from_millis(20));
        let chosen = files.issue(PathBuf::from("/tmp/a.bin"));
        std::thread::sleep(Duration::from_millis(40));
        assert!(files.redeem(&chosen.handle).is_err());
    }

    #[test]
    fn handles_differ_and_only_the_newest_are_kept() {
        let files = ChosenFiles::default();
        let first = files.issue(PathBuf::from("/tmp/first.bin"));
        let later: Vec<ChosenFile> = (0..MAX_OUTSTANDING)
            .map(|n| files.issue(PathBuf::from(format!("/tmp/{n}.bin"))))
            .collect();
        let distinct: std::collections::HashSet<_> = later.iter().map(|c| &c.handle).collect();
        assert_eq!(distinct.len(), MAX_OUTSTANDING);
        assert!(files.redeem(&first.handle).is_err(), "the oldest went");
        assert!(files.redeem(&later[MAX_OUTSTANDING - 1].handle).is_ok());
    }
}
