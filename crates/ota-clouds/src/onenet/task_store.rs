//! The task the last check found, kept per device and task type in the data folder
//! (`<data>/downloads/onenet/<dev_id>/task-<type>.json`), so a fetch started from the window acts on
//! what the core itself asked OneNET — never on a task the window sends.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ota_core::onenet::{OnenetTask, OnenetTaskType};
use ota_core::ApiError;
use serde::{Deserialize, Serialize};

use super::ids;
use crate::download_files as files;

/// A kept task is used for as long as its download token lives (two days); after that a fetch asks
/// OneNET again.
const KEPT_FOR: Duration = Duration::from_secs(2 * 24 * 3600);
/// A kept record is a few hundred bytes; anything larger is not ours.
const RECORD_LIMIT: u64 = 64 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeptTask {
    checked_at_secs: u64,
    task: OnenetTask,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn record_path(device_dir: &Path, task_type: OnenetTaskType) -> PathBuf {
    device_dir.join(format!("task-{}.json", task_type.code()))
}

/// Keeps `task` as the device's last checked task of its type.
pub(super) fn keep(device_dir: &Path, task: &OnenetTask) -> Result<(), ApiError> {
    ids::task(task)?;
    let record = KeptTask {
        checked_at_secs: now_secs(),
        task: task.clone(),
    };
    let body = serde_json::to_vec(&record)
        .map_err(|e| ApiError::internal(format!("could not record the task: {e}")))?;
    files::replace_private(&record_path(device_dir, task.task_type), &body)?;
    Ok(())
}

/// Forgets the device's kept task of this type (a check found none).
pub(super) fn forget(device_dir: &Path, task_type: OnenetTaskType) {
    files::remove_if_present(&record_path(device_dir, task_type));
}

/// The device's kept task of this type: None when none is kept, it is unreadable or older than its
/// token; a refusal when it names another device or carries ids OneNET does not hand out (a record
/// someone edited).
pub(super) fn kept(
    device_dir: &Path,
    dev_id: &str,
    task_type: OnenetTaskType,
) -> Result<Option<OnenetTask>, ApiError> {
    let path = record_path(device_dir, task_type);
    let Some(body) = files::read_private(&path, RECORD_LIMIT)? else {
        return Ok(None);
    };
    let record: KeptTask = match serde_json::from_slice(&body) {
        Ok(record) => record,
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "unreadable kept OneNET task; checking again");
            return Ok(None);
        }
    };
    let age = now_secs().saturating_sub(record.checked_at_secs);
    if Duration::from_secs(age) >= KEPT_FOR || record.checked_at_secs > now_secs() + 60 {
        return Ok(None);
    }
    let task = record.task;
    ids::task(&task).map_err(|e| {
        e.with_hint("The kept task was changed outside the console: check for the update again.")
    })?;
    if task.dev_id != dev_id || task.task_type != task_type {
        return Err(ApiError::validation(format!(
            "The kept task belongs to another device than {dev_id}."
        ))
        .with_hint("Check for the update again."));
    }
    Ok(Some(task))
}
