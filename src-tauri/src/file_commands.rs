//! Commands that read or write a file the user chose. The webview never passes a path: Rust opens the
//! dialog (`dialogs`), or hands out a one-time handle for a file chosen or dropped (`chosen_files`), and
//! the engine checks what it opens (a regular file, a size cap) and how it writes (never through a link,
//! through a temp file renamed into place).

use ota_app::audit::{suggested_file_name, AuditExported, AuditFormat, AuditQuery};
use ota_app::devices::{DeviceListFile, ImportLimits};
use ota_app::firmware::{validate_version, FirmwareAdded, FirmwareDetails};
use tauri::{AppHandle, State};

use crate::chosen_files::{ChosenFile, ChosenFiles};
use crate::dialogs::{self, Ask, Purpose};
use crate::error::IpcResult;
use crate::state::Shared;

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
    app: State<'_, Shared>,
    files: State<'_, ChosenFiles>,
    file: String,
    firmware: FirmwareDetails,
) -> IpcResult<FirmwareAdded> {
    // A mistyped version is refused before the handle is used up, so the same file can be tried again.
    validate_version(firmware.version.trim())?;
    let path = files.redeem(&file)?;
    Ok(app.add_firmware(path, firmware).await?)
}

/// Opens a file dialog for a device list and answers its text for the import form (nothing when the
/// user closed the dialog).
#[tauri::command]
pub async fn choose_device_csv(
    handle: AppHandle,
    app: State<'_, Shared>,
) -> IpcResult<Option<DeviceListFile>> {
    let chosen = dialogs::ask(
        &handle,
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
        Some(path) => Ok(Some(app.read_device_list(path, ImportLimits::FORM).await?)),
    }
}

/// Asks where to save the matching audit entries (a save dialog opened here) and writes them there;
/// nothing when the user closed the dialog.
#[tauri::command]
pub async fn export_audit(
    handle: AppHandle,
    app: State<'_, Shared>,
    query: AuditQuery,
    format: AuditFormat,
) -> IpcResult<Option<AuditExported>> {
    let file_name = suggested_file_name(format);
    let kind = match format {
        AuditFormat::Csv => "CSV",
        AuditFormat::Json => "JSON",
    };
    let chosen = dialogs::ask(
        &handle,
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
    Ok(Some(app.audit_export_to(&query, format, path).await?))
}

/// Asks where to save the fleet versions as CSV (a save dialog opened here) and writes them there;
/// answers the path written, or nothing when the user closed the dialog.
#[tauri::command]
pub async fn export_fleet_versions(
    handle: AppHandle,
    app: State<'_, Shared>,
) -> IpcResult<Option<String>> {
    let file_name = ota_app::fleet::suggested_file_name();
    let chosen = dialogs::ask(
        &handle,
        Ask {
            purpose: Purpose::Save,
            title: "Export the fleet versions",
            filter: Some(("CSV", &["csv"])),
            file_name: Some(&file_name),
        },
    )
    .await?;
    let Some(path) = chosen else {
        return Ok(None);
    };
    Ok(Some(app.export_fleet_versions(path).await?.path))
}
