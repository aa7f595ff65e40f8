//! Commands that read or write a file the user chose. The webview never passes a path: Rust opens the
//! dialog (`dialogs`), or hands out a one-time handle for a file chosen or dropped (`chosen_files`), and
//! the engine checks what it opens (a regular file, a size cap) and how it writes (never through a link,
//! through a temp file renamed into place).

use std::io::Read;
use std::path::Path;

use ota_core::audit_export::{self, AuditFormat};
use ota_core::library::{self, FirmwareAdded, FirmwareDetails};
use ota_core::store::AuditQuery;
use ota_core::ApiError;
use serde::Serialize;
use tauri::{AppHandle, State};
use ts_rs::TS;

use crate::chosen_files::{ChosenFile, ChosenFiles};
use crate::dialogs::{self, Ask, Purpose};
use crate::error::IpcResult;
use crate::state::AppState;

/// A device list (CSV) is read whole into the form: this is far more than any fleet typed by hand.
pub const MAX_DEVICE_CSV_BYTES: u64 = 1 << 20;

/// Where the audit export went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditExported {
    #[ts(type = "number")]
    pub count: usize,
    /// Where the user chose to save it, to show.
    pub path: String,
}

/// A device list the user chose, read for the import form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceListFile {
    pub file_name: String,
    pub text: String,
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("the file work stopped: {e}")))?
}

/// Opens a file dialog for a firmware package; answers a handle for [`add_firmware`], or nothing when
/// the user closed the dialog.
#[tauri::command]
pub async fn choose_firmware_file(
    app: AppHandle,
    files: State<'_, ChosenFiles>,
) -> IpcResult<Option<ChosenFile>> {
    let chosen = dialogs::ask(
        &app,
        Ask {
            purpose: Purpose::Open,
            title: "Add firmware",
            filter: None,
            file_name: None,
        },
    )
    .await?;
    Ok(chosen.map(|path| files.issue(path)))
}

/// Adds the file behind `file` (a handle from [`choose_firmware_file`] or a drop on the window) to the
/// library. Hashing and copying a large file runs off the async runtime.
#[tauri::command]
pub async fn add_firmware(
    state: State<'_, AppState>,
    files: State<'_, ChosenFiles>,
    file: String,
    firmware: FirmwareDetails,
) -> IpcResult<FirmwareAdded> {
    // A mistyped version is refused before the handle is used up, so the same file can be tried again.
    library::validate_version(firmware.version.trim())?;
    let path = files.redeem(&file)?;
    let console = state.console.clone();
    Ok(blocking(move || library::add_firmware_file(&console, &path, &firmware)).await?)
}

/// Opens a file dialog for a device list and answers its text for the import form (nothing when the
/// user closed the dialog).
#[tauri::command]
pub async fn choose_device_csv(app: AppHandle) -> IpcResult<Option<DeviceListFile>> {
    let chosen = dialogs::ask(
        &app,
        Ask {
            purpose: Purpose::Open,
            title: "Import OneNET devices",
            filter: Some(("CSV", &["csv", "txt"])),
            file_name: None,
        },
    )
    .await?;
    match chosen {
        None => Ok(None),
        Some(path) => Ok(Some(blocking(move || read_device_csv(&path)).await?)),
    }
}

/// Reads a device list: a regular file of at most [`MAX_DEVICE_CSV_BYTES`], in UTF-8.
pub fn read_device_csv(path: &Path) -> Result<DeviceListFile, ApiError> {
    let limit = format!(
        "a device list is at most {}",
        library::describe_size(MAX_DEVICE_CSV_BYTES)
    );
    let (file, _) = library::open_regular_file(path, MAX_DEVICE_CSV_BYTES, &limit)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut bytes = Vec::new();
    // The cap holds even for a file that grows while it is read.
    file.take(MAX_DEVICE_CSV_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ApiError::validation(format!("Cannot read {file_name}: {e}.")))?;
    if bytes.len() as u64 > MAX_DEVICE_CSV_BYTES {
        return Err(ApiError::validation(format!(
            "{file_name} grew past {} while it was read.",
            library::describe_size(MAX_DEVICE_CSV_BYTES)
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::validation(format!("{file_name} is not a text file (UTF-8)."))
            .with_hint("Save the list as CSV (UTF-8) and choose it again.")
    })?;
    Ok(DeviceListFile { file_name, text })
}

/// Asks where to save the matching audit entries (a save dialog opened here) and writes them there;
/// nothing when the user closed the dialog.
#[tauri::command]
pub async fn export_audit(
    app: AppHandle,
    state: State<'_, AppState>,
    query: AuditQuery,
    format: AuditFormat,
) -> IpcResult<Option<AuditExported>> {
    let file_name = audit_export::suggested_file_name(format);
    let kind = match format {
        AuditFormat::Csv => "CSV",
        AuditFormat::Json => "JSON",
    };
    let chosen = dialogs::ask(
        &app,
        Ask {
            purpose: Purpose::Save,
            title: "Export the audit log",
            filter: Some((kind, &[format.extension()])),
            file_name: Some(&file_name),
        },
    )
    .await?;
    let Some(path) = chosen else {
        return Ok(None);
    };
    let (text, count) = audit_export::export(&state.console, &query, format)?;
    let shown = path.display().to_string();
    blocking(move || audit_export::write_export(&path, &text)).await?;
    Ok(Some(AuditExported { count, path: shown }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_list_is_read_when_it_is_a_small_text_file() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("pumps.csv");
        std::fs::write(&list, "527776559,Pump 1\n").unwrap();
        let read = read_device_csv(&list).unwrap();
        assert_eq!(read.file_name, "pumps.csv");
        assert_eq!(read.text, "527776559,Pump 1\n");

        let big = dir.path().join("big.csv");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_DEVICE_CSV_BYTES + 1)
            .unwrap();
        let err = read_device_csv(&big).unwrap_err();
        assert_eq!(
            err.message,
            "big.csv is 1.0 MiB; a device list is at most 1 MiB."
        );

        let binary = dir.path().join("fw.bin");
        std::fs::write(&binary, [0xffu8, 0xfe, 0x00]).unwrap();
        assert!(read_device_csv(&binary)
            .unwrap_err()
            .message
            .contains("not a text file"));
    }

    #[cfg(unix)]
    #[test]
    fn a_device_list_from_a_device_or_a_fifo_is_refused_without_blocking() {
        let err = read_device_csv(Path::new("/dev/zero")).unwrap_err();
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("list.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(read_device_csv(&fifo).err());
        });
        let err = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO must not block")
            .expect("a FIFO is refused");
        assert!(
            err.message.contains("not a regular file"),
            "{}",
            err.message
        );
    }
}
