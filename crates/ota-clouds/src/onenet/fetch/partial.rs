//! The partial file `<out>.part` and its record `<out>.part.json`: which package the bytes belong to
//! and how many of them are known to be on disk, so a fetch resumes where the last one stopped.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use ota_core::onenet::OnenetTask;
use ota_core::{ApiError, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::download_files::{self as files, LOCK_PATIENCE};

/// `<out>.part` and `<out>.part.json`.
pub fn partial_paths(out: &Path) -> (PathBuf, PathBuf) {
    let mut part = out.as_os_str().to_owned();
    part.push(".part");
    let mut meta = part.clone();
    meta.push(".json");
    (PathBuf::from(part), PathBuf::from(meta))
}

/// What `<out>.part.json` records: which package the partial file belongs to and how much of it is
/// known to be on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PartialMeta {
    dev_id: String,
    target_version: String,
    md5: String,
    size: u64,
    offset: u64,
}

impl PartialMeta {
    fn for_task(task: &OnenetTask, offset: u64) -> Self {
        Self {
            dev_id: task.dev_id.clone(),
            target_version: task.target_version.clone(),
            md5: task.md5.clone(),
            size: task.size,
            offset,
        }
    }

    fn same_package(&self, task: &OnenetTask) -> bool {
        self.dev_id == task.dev_id && self.md5 == task.md5 && self.size == task.size
    }
}

/// Bytes already saved for this task (0 when none, when they belong to another package, or when a
/// link or anything but a regular file sits where they belong).
pub fn saved_offset(out: &Path, task: &OnenetTask) -> u64 {
    let (part, meta) = partial_paths(out);
    let Some(meta) = read_meta(&meta) else {
        return 0;
    };
    let on_disk = match fs::symlink_metadata(&part) {
        Ok(m) if m.is_file() => m.len(),
        _ => 0,
    };
    if meta.same_package(task) {
        meta.offset.min(on_disk).min(task.size)
    } else {
        0
    }
}

/// `.part.json` is a few hundred bytes; anything larger is not ours.
const META_LIMIT: u64 = 64 * 1024;

fn read_meta(path: &Path) -> Option<PartialMeta> {
    match files::read_private(path, META_LIMIT) {
        Ok(Some(body)) => serde_json::from_slice(&body).ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "the download's offsets file is not usable; starting over");
            None
        }
    }
}

fn write_meta(path: &Path, meta: &PartialMeta) -> Result<(), ApiError> {
    let body = serde_json::to_vec(meta)
        .map_err(|e| ApiError::internal(format!("could not record the download's offset: {e}")))?;
    files::replace_private(path, &body)?;
    Ok(())
}

/// Writes the offsets of one package to its `.part.json`: the syncer's only way to record one.
pub(super) struct Recorder {
    path: PathBuf,
    meta: PartialMeta,
}

impl Recorder {
    pub(super) fn new(path: PathBuf, task: &OnenetTask) -> Self {
        Self {
            path,
            meta: PartialMeta::for_task(task, 0),
        }
    }

    /// Records that the first `offset` bytes of the partial file are durable.
    pub(super) fn record(&mut self, offset: u64) -> Result<(), ApiError> {
        self.meta.offset = offset;
        write_meta(&self.path, &self.meta)
    }
}

pub(super) fn local_error(what: &str, err: &io::Error, path: &Path) -> ApiError {
    tracing::error!(error = %err, path = %path.display(), what, "download file error");
    let message = match err.kind() {
        io::ErrorKind::PermissionDenied => {
            format!("The console may not write {}", path.display())
        }
        io::ErrorKind::StorageFull => format!("The disk is full while saving {}", path.display()),
        _ => format!("Could not {what} {}: {err}", path.display()),
    };
    ApiError::new(ErrorKind::Internal, message)
        .with_hint("Choose a folder you can write to with enough free space, then fetch again.")
}

/// The partial file, opened, locked, cut back to its confirmed length and hashed up to it.
pub(super) struct Partial {
    pub(super) file: File,
    pub(super) offset: u64,
    pub(super) hasher: Md5,
}

pub(super) fn open_partial(out: &Path, task: &OnenetTask) -> Result<Partial, ApiError> {
    let (part_path, meta_path) = partial_paths(out);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| local_error("create the folder of", &e, out))?;
    }
    let mut file = files::open_private(&part_path)?;
    // Held until the file is renamed or deleted: another fetch of the same package (the window and
    // otactl) is told it is busy instead of writing between our chunks.
    files::lock(&file, &part_path, LOCK_PATIENCE)?;
    // Read under the lock: the offset another fetch recorded is final once it let go.
    let offset = saved_offset(out, task);
    // Bytes past the confirmed offset were never acknowledged: they may be half-written.
    file.set_len(offset)
        .map_err(|e| local_error("trim", &e, &part_path))?;
    let mut hasher = Md5::new();
    file.seek(SeekFrom::Start(0))
        .map_err(|e| local_error("read", &e, &part_path))?;
    let mut reader = (&file).take(offset);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| local_error("read", &e, &part_path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| local_error("seek in", &e, &part_path))?;
    // The record is made ours (and cut back with the file) unless it already says this: a fresh start
    // with no record needs none yet, which saves an fsync before the first byte.
    let record = PartialMeta::for_task(task, offset);
    let as_it_stands = match read_meta(&meta_path) {
        Some(existing) => existing == record,
        None => offset == 0 && fs::symlink_metadata(&meta_path).is_err(),
    };
    if !as_it_stands {
        write_meta(&meta_path, &record)?;
    }
    Ok(Partial {
        file,
        offset,
        hasher,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_meta_names_its_package() {
        let task = OnenetTask {
            dev_id: "1".into(),
            target_version: "V2".into(),
            token: "ota_a".into(),
            size: 10,
            md5: "0".repeat(32),
            min_signal: None,
            min_power: None,
            retry: None,
            interval_secs: None,
            package: ota_core::onenet::OnenetPackageKind::Full,
            task_type: ota_core::onenet::OnenetTaskType::Application,
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fw.bin");
        assert_eq!(saved_offset(&out, &task), 0);
        let (part, meta) = partial_paths(&out);
        fs::write(&part, b"12345").unwrap();
        write_meta(&meta, &PartialMeta::for_task(&task, 4)).unwrap();
        assert_eq!(saved_offset(&out, &task), 4);
        let other = OnenetTask {
            md5: "1".repeat(32),
            ..task.clone()
        };
        assert_eq!(saved_offset(&out, &other), 0);
        // The recorded offset never passes what is on disk.
        write_meta(&meta, &PartialMeta::for_task(&task, 9)).unwrap();
        assert_eq!(saved_offset(&out, &task), 5);
        // Opening cuts the file back to the confirmed length.
        write_meta(&meta, &PartialMeta::for_task(&task, 3)).unwrap();
        let partial = open_partial(&out, &task).unwrap();
        assert_eq!(partial.offset, 3);
        assert_eq!(fs::metadata(&part).unwrap().len(), 3);
        let expected: [u8; 16] = Md5::digest(b"123").into();
        let got: [u8; 16] = partial.hasher.finalize().into();
        assert_eq!(got, expected);
    }
}
