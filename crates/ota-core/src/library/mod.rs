//! The firmware library: packages added from files, hashed while streamed (MD5 + SHA-256), stored once
//! per content in the data folder (`firmware/<sha256>`), described in SQLite, published to clouds where
//! they allow it. Every change is in the audit log.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use md5::Md5;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::cloud::PublishRequest;
use crate::console::{Console, DataKind};
use crate::error::{ApiError, CoreError, ErrorKind};
use crate::hex::lower_hex as hex;
use crate::model::Cloud;

/// Where a firmware was published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FirmwarePublication {
    #[ts(type = "number")]
    pub account_id: i64,
    pub account_name: String,
    #[ts(type = "number")]
    pub published_at: i64,
    /// What the cloud made of it (plan id, task count, models).
    pub detail: String,
}

/// A package in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareEntry {
    #[ts(type = "number")]
    pub id: i64,
    pub sha256: String,
    pub md5: String,
    #[ts(type = "number")]
    pub size: u64,
    pub file_name: String,
    pub version: String,
    pub cloud: Cloud,
    /// `None`: for every model of the cloud.
    pub model: Option<String>,
    pub notes: String,
    pub added_by: String,
    #[ts(type = "number")]
    pub added_at: i64,
    pub publications: Vec<FirmwarePublication>,
    /// Campaigns that use it (it cannot be deleted while any does).
    pub campaigns: u32,
}

/// What the user enters about a package; the file itself comes separately: a path the CLI was given, or
/// a file the window's user chose in a dialog or dropped on the window (never a path the window typed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareDetails {
    pub version: String,
    pub cloud: Cloud,
    #[ts(optional)]
    #[serde(default)]
    pub model: Option<String>,
    #[ts(optional)]
    #[serde(default)]
    pub notes: Option<String>,
}

/// A package to add from a path (the CLI, tests and benchmarks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFirmware {
    /// The file to add.
    pub path: String,
    pub version: String,
    pub cloud: Cloud,
    pub model: Option<String>,
    pub notes: Option<String>,
}

impl NewFirmware {
    fn details(&self) -> FirmwareDetails {
        FirmwareDetails {
            version: self.version.clone(),
            cloud: self.cloud,
            model: self.model.clone(),
            notes: self.notes.clone(),
        }
    }
}

/// What adding a file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FirmwareAdded {
    pub entry: FirmwareEntry,
    /// False when the same package with the same version, cloud and model was already there.
    pub created: bool,
    /// True when the bytes were already stored for another entry (not copied again).
    pub deduplicated: bool,
}

/// The row the store writes.
pub struct NewFirmwareEntry<'a> {
    pub sha256: &'a str,
    pub md5: &'a str,
    pub size: u64,
    pub file_name: &'a str,
    pub version: &'a str,
    pub cloud: Cloud,
    pub model: Option<&'a str>,
    pub notes: &'a str,
    pub added_by: &'a str,
}

/// The same rule OneNET applies to versions (`[A-Za-z0-9_.-]`), a little longer: every cloud accepts it.
pub fn validate_version(version: &str) -> Result<(), ApiError> {
    let ok = !version.is_empty()
        && version.len() <= 32
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "“{version}” is not a firmware version: use 1–32 letters, digits, dots, dashes or underscores (e.g. 2.4.1)."
        )))
    }
}

pub fn library_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("firmware")
}

fn blob_path(data_dir: &Path, sha256: &str) -> PathBuf {
    library_dir(data_dir).join(sha256)
}

fn io_error(path: &Path, source: std::io::Error) -> ApiError {
    CoreError::Io {
        path: path.display().to_string(),
        source,
    }
    .into()
}

/// The largest package the library takes: far above any camera or module firmware, and small enough that
/// a wrong choice (a disk image, a device such as `/dev/zero`) is refused before it fills the disk.
pub const MAX_PACKAGE_BYTES: u64 = 2 << 30;

/// How a path is named in messages and in the audit log: its file name only, never the full path.
fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "the chosen file".to_string())
}

/// A size as people read it: "2.0 GiB", "1.5 MiB", "12 KiB", "300 B".
pub fn describe_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            return if bytes.is_multiple_of(size) {
                format!("{} {unit}", bytes / size)
            } else {
                format!("{:.1} {unit}", bytes as f64 / size as f64)
            };
        }
    }
    format!("{bytes} B")
}

/// Opens a file a user chose (a firmware package, a device list) and checks it on the open handle.
///
/// The path is resolved first: `..` and links are followed to the file they name (file dialogs and drops
/// often hand over a link, e.g. from a Downloads folder), and the checks apply to that file. It is opened
/// once without waiting (a plain open of a FIFO would block until a writer came), and the open handle,
/// not the path, must be a regular file of at most `max_bytes` (`limit` says so in words): nothing can
/// be swapped in between the check and the read. Answers the file and its size.
pub fn open_regular_file(
    source: &Path,
    max_bytes: u64,
    limit: &str,
) -> Result<(std::fs::File, u64), ApiError> {
    let name = file_name_of(source);
    let cannot_read = |err: std::io::Error| {
        let kind = if err.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Validation
        };
        ApiError::new(kind, format!("Cannot read {name}: {err}."))
            .with_hint("Choose the file again.")
    };
    let resolved = std::fs::canonicalize(source).map_err(cannot_read)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(&resolved).map_err(cannot_read)?;
    let meta = file.metadata().map_err(cannot_read)?;
    if meta.is_dir() {
        return Err(ApiError::validation(format!(
            "{name} is a folder; choose a file."
        )));
    }
    if !meta.is_file() {
        return Err(ApiError::validation(format!(
            "{name} is not a regular file (a device, pipe or socket); choose a file."
        )));
    }
    if meta.len() > max_bytes {
        return Err(too_large(&name, meta.len(), limit));
    }
    Ok((file, meta.len()))
}

fn too_large(name: &str, size: u64, limit: &str) -> ApiError {
    ApiError::validation(format!("{name} is {}; {limit}.", describe_size(size)))
        .with_hint("Choose another file.")
}

fn package_limit() -> String {
    format!(
        "the library takes packages of up to {}",
        describe_size(MAX_PACKAGE_BYTES)
    )
}

fn empty(name: &str) -> ApiError {
    ApiError::validation(format!("{name} is empty; a firmware package has content."))
}

struct Hashed {
    sha256: String,
    md5: String,
    size: u64,
    /// The copy in the library folder, not yet under its final name.
    temp: tempfile::NamedTempFile,
}

/// Streams `source` once: hashes and copies it into a temporary file in the library folder.
fn hash_and_copy(source: &Path, dir: &Path) -> Result<Hashed, ApiError> {
    let name = file_name_of(source);
    let (input, size) = open_regular_file(source, MAX_PACKAGE_BYTES, &package_limit())?;
    if size == 0 {
        return Err(empty(&name));
    }
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".adding-")
        .tempfile_in(dir)
        .map_err(|e| io_error(dir, e))?;
    let mut sha = Sha256::new();
    let mut md5 = Md5::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    // One byte past the cap is enough to know a file that grew while it was read is too large.
    let mut input = input.take(MAX_PACKAGE_BYTES + 1);
    loop {
        let n = input.read(&mut buf).map_err(|e| io_error(source, e))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > MAX_PACKAGE_BYTES {
            return Err(too_large(&name, size, &package_limit()));
        }
        sha.update(&buf[..n]);
        md5.update(&buf[..n]);
        temp.write_all(&buf[..n])
            .map_err(|e| io_error(temp.path(), e))?;
    }
    if size == 0 {
        return Err(empty(&name));
    }
    temp.as_file()
        .sync_all()
        .map_err(|e| io_error(temp.path(), e))?;
    Ok(Hashed {
        sha256: hex(&sha.finalize()),
        md5: hex(&md5.finalize()),
        size,
        temp,
    })
}

/// Adds the file at `new.path` to the library; see [`add_firmware_file`].
pub fn add_firmware(console: &Console, new: &NewFirmware) -> Result<FirmwareAdded, ApiError> {
    if new.path.trim().is_empty() {
        return Err(ApiError::validation("Choose a firmware file."));
    }
    add_firmware_file(console, Path::new(new.path.trim()), &new.details())
}

/// Adds a file to the library (hashing while copying; identical bytes are stored once). Audited under
/// the file's name, never its full path.
pub fn add_firmware_file(
    console: &Console,
    source: &Path,
    details: &FirmwareDetails,
) -> Result<FirmwareAdded, ApiError> {
    let result = add(console, source, details);
    let target = format!("{} {}", file_name_of(source), details.version.trim());
    console.audit(
        "firmware.add",
        Some(details.cloud),
        Some(&target),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    if result.is_ok() {
        console.notify(DataKind::Library);
    }
    result
}

fn add(
    console: &Console,
    source: &Path,
    details: &FirmwareDetails,
) -> Result<FirmwareAdded, ApiError> {
    let version = details.version.trim();
    validate_version(version)?;
    let model = details
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let data_dir = console.data_dir();
    let dir = library_dir(&data_dir);
    let hashed = hash_and_copy(source, &dir)?;
    let blob = blob_path(&data_dir, &hashed.sha256);
    let deduplicated = blob.exists();
    if !deduplicated {
        // Under its final name only once complete: a crash mid-copy leaves a `.adding-` temp file, never a
        // blob with the wrong bytes.
        hashed
            .temp
            .persist(&blob)
            .map_err(|e| io_error(&blob, e.error))?;
    }
    if console.store().is_shared() {
        // Team mode: the bytes go to the shared database too (content-addressed), before the entry that
        // names them, so no entry is ever without its bytes.
        let bytes = std::fs::read(&blob).map_err(|e| io_error(&blob, e))?;
        console.store().put_firmware_blob(&hashed.sha256, &bytes)?;
    }
    let file_name = file_name_of(source);
    let (entry, created) = console.store().add_firmware(&NewFirmwareEntry {
        sha256: &hashed.sha256,
        md5: &hashed.md5,
        size: hashed.size,
        file_name: &file_name,
        version,
        cloud: details.cloud,
        model,
        notes: details.notes.as_deref().unwrap_or("").trim(),
        added_by: console.actor(),
    })?;
    Ok(FirmwareAdded {
        entry,
        created,
        deduplicated,
    })
}

pub fn list_firmware(console: &Console) -> Result<Vec<FirmwareEntry>, ApiError> {
    Ok(console.store().firmware_list()?)
}

/// Deletes an entry (refused while a campaign uses it); the stored bytes go when nothing else uses them.
pub fn delete_firmware(console: &Console, id: i64) -> Result<FirmwareEntry, ApiError> {
    let result = console.store().delete_firmware(id).map_err(ApiError::from);
    let target = match &result {
        Ok((entry, _)) => format!("{} {}", entry.file_name, entry.version),
        Err(_) => format!("firmware #{id}"),
    };
    console.audit(
        "firmware.delete",
        result.as_ref().ok().map(|(e, _)| e.cloud),
        Some(&target),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let (entry, shared) = result?;
    if !shared {
        if let Err(err) = console.store().delete_firmware_blob(&entry.sha256) {
            tracing::warn!(error = %err, "could not delete a package's shared bytes");
        }
        let blob = blob_path(&console.data_dir(), &entry.sha256);
        if let Err(err) = std::fs::remove_file(&blob) {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(path = %blob.display(), error = %err, "could not delete a stored package");
            }
        }
    }
    console.notify(DataKind::Library);
    Ok(entry)
}

/// Where a library entry's bytes are on this machine. In team mode a package added on another machine is
/// fetched from the shared database first, and kept only if its bytes hash to the entry's SHA-256.
pub fn stored_package(console: &Console, entry: &FirmwareEntry) -> Result<PathBuf, ApiError> {
    let path = blob_path(&console.data_dir(), &entry.sha256);
    if path.exists() || !console.store().is_shared() {
        return Ok(path);
    }
    let bytes = console
        .store()
        .firmware_blob(&entry.sha256)?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "The bytes of {} {} are not in the team database.",
                entry.file_name, entry.version
            ))
            .with_hint("Add the file to the library again from the desk that has it.")
        })?;
    let actual = hex(&Sha256::digest(&bytes));
    if actual != entry.sha256 {
        return Err(ApiError::new(
            ErrorKind::Validation,
            format!(
                "The team database's copy of {} {} is damaged (SHA-256 {actual}, expected {}).",
                entry.file_name, entry.version, entry.sha256
            ),
        )
        .with_hint("Add the file to the library again; the damaged copy was not used."));
    }
    let dir = library_dir(&console.data_dir());
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
    let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io_error(&dir, e))?;
    temp.write_all(&bytes).map_err(|e| io_error(&path, e))?;
    temp.persist(&path).map_err(|e| io_error(&path, e.error))?;
    Ok(path)
}

/// Publishes an entry to an account's cloud (sandbox clouds have management endpoints; real clouds whose
/// upload API is not known say so). Audited.
pub async fn publish_firmware(
    console: Arc<Console>,
    firmware_id: i64,
    account_id: i64,
) -> Result<FirmwareEntry, ApiError> {
    let entry = console.store().firmware(firmware_id)?;
    let account = console.store().account(account_id)?;
    let result = publish(&console, &entry, &account).await;
    console.audit(
        "firmware.publish",
        Some(account.cloud),
        Some(&format!(
            "{} {} → {}",
            entry.file_name, entry.version, account.name
        )),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    result?;
    console.notify(DataKind::Library);
    console.notify(DataKind::Devices);
    Ok(console.store().firmware(firmware_id)?)
}

async fn publish(
    console: &Arc<Console>,
    entry: &FirmwareEntry,
    account: &crate::model::Account,
) -> Result<(), ApiError> {
    if account.cloud != entry.cloud {
        return Err(ApiError::validation(format!(
            "{} {} is for {}; {} is a {} account.",
            entry.file_name,
            entry.version,
            entry.cloud.label(),
            account.name,
            account.cloud.label()
        )));
    }
    let session = console.session(account)?;
    let updates = session.fleet_updates().ok_or_else(|| {
        ApiError::internal(format!(
            "{} has no update mechanism.",
            account.cloud.label()
        ))
    })?;
    let product_keys = console
        .store()
        .product_keys(account.id, entry.model.as_deref())?;
    let receipt = updates
        .publish(&PublishRequest {
            version: entry.version.clone(),
            model: entry.model.clone(),
            size: entry.size,
            md5: entry.md5.clone(),
            sha256: entry.sha256.clone(),
            product_keys,
        })
        .await?;
    console
        .store()
        .record_publication(entry.id, account.id, &receipt.detail)?;
    // The cloud now offers the version: refresh so the list and the pre-flight check see it.
    if let Err(err) = console
        .refresh_accounts(std::slice::from_ref(account))
        .await
    {
        tracing::warn!(error = %err.display_line(), "refresh after publishing failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
