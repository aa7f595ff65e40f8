//! OneNET device-side OTA as the window and `otactl` run it: find the device's account, check for its
//! task, fetch the package, report results — with every change to the cloud in the audit log.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ota_core::cloud::{CloudSession, OnenetDeviceApi};
use ota_core::onenet::{
    OnenetCheck, OnenetDeviceRef, OnenetDownloadProgress, OnenetReportAnswer, OnenetTask,
    OnenetTaskType,
};
use ota_core::{Account, ApiError, Cloud, Console, DataKind, Device};

use super::fetch::{self, FetchEnd, FetchOptions, PauseSignal};
use super::ids;
use super::ota::device_ref;
use super::task_store;
use crate::download_files as files;

/// A OneNET device and the account (product) it belongs to.
pub struct OnenetTarget {
    pub account: Account,
    /// What the fleet cache knows of it (None for a dev_id the cache has never seen).
    pub device: Option<Device>,
    session: Arc<dyn CloudSession>,
}

impl OnenetTarget {
    /// The product's device-side OTA API; an error for an account of another cloud.
    pub fn client(&self) -> Result<&dyn OnenetDeviceApi, ApiError> {
        self.session
            .onenet()
            .ok_or_else(|| ApiError::internal("no OneNET client for this account"))
    }

    /// The device as a check describes it: cached manuf/model/version, overridden by what is given.
    pub fn device_ref(
        &self,
        dev_id: &str,
        task_type: OnenetTaskType,
        overrides: DeviceOverrides,
    ) -> Result<OnenetDeviceRef, ApiError> {
        let mut found = match &self.device {
            Some(device) => device_ref(device, task_type),
            None => OnenetDeviceRef {
                dev_id: dev_id.to_string(),
                manuf: None,
                model: None,
                version: String::new(),
                task_type,
            },
        };
        if let Some(manuf) = overrides.manuf {
            found.manuf = Some(manuf);
        }
        if let Some(model) = overrides.model {
            found.model = Some(model);
        }
        if let Some(version) = overrides.version {
            found.version = version;
        }
        if found.version.is_empty() {
            return Err(ApiError::validation(format!(
                "The version device {dev_id} runs is not known."
            ))
            .with_hint("Give it with --version (OneNET compares it with the task's target)."));
        }
        Ok(found)
    }
}

/// What a user states about a device instead of the cached values.
#[derive(Debug, Clone, Default)]
pub struct DeviceOverrides {
    pub manuf: Option<String>,
    pub model: Option<String>,
    pub version: Option<String>,
}

fn onenet_accounts(accounts: &[Account]) -> Vec<&Account> {
    accounts
        .iter()
        .filter(|a| a.cloud == Cloud::Onenet)
        .collect()
}

/// The account a dev_id belongs to: from the fleet cache (refreshed once when it is missing), or the
/// only OneNET account in scope for a device the cache does not list.
pub async fn locate(
    console: &Console,
    accounts: &[Account],
    dev_id: &str,
) -> Result<OnenetTarget, ApiError> {
    let dev_id = ids::dev_id(dev_id.trim())?;
    let candidates = onenet_accounts(accounts);
    if candidates.is_empty() {
        return Err(
            ApiError::not_found("No OneNET account is configured.").with_hint(
                "Add the product in Settings (product id and access key), or use the sandbox.",
            ),
        );
    }
    for attempt in 0..2 {
        for device in console.store().find_device(Cloud::Onenet, dev_id)? {
            if let Some(account) = candidates.iter().find(|a| a.id == device.account_id) {
                return Ok(OnenetTarget {
                    session: console.session(account)?,
                    account: (*account).clone(),
                    device: Some(device),
                });
            }
        }
        if attempt == 0 {
            let owned: Vec<Account> = candidates.iter().map(|a| (*a).clone()).collect();
            if let Err(err) = console.refresh_accounts(&owned).await {
                tracing::info!(error = %err.display_line(), "refresh before locating a OneNET device failed");
            }
        }
    }
    match candidates.as_slice() {
        [only] => Ok(OnenetTarget {
            session: console.session(only)?,
            account: (*only).clone(),
            device: None,
        }),
        _ => Err(
            ApiError::not_found(format!("No OneNET account lists the device {dev_id}.")).with_hint(
                "Add the device to its product in Settings, or name the account (--account).",
            ),
        ),
    }
}

/// The folder of one device's downloads: `<data>/downloads/onenet/<dev_id>` (the id checked to be
/// OneNET's: digits only, so it is one path component).
fn device_dir(data_dir: &Path, dev_id: &str) -> Result<PathBuf, ApiError> {
    let dev_id = ids::dev_id(dev_id)?;
    Ok(data_dir.join("downloads").join("onenet").join(dev_id))
}

/// [`device_dir`], created (0700) and checked to lie inside the data folder once links are resolved.
fn ensure_device_dir(data_dir: &Path, dev_id: &str) -> Result<PathBuf, ApiError> {
    let dir = device_dir(data_dir, dev_id)?;
    files::private_dir_inside(data_dir, &dir)?;
    Ok(dir)
}

/// Where the console keeps a fetched package: `<data>/downloads/onenet/<dev_id>/<target>-<md5 prefix>.bin`.
/// Every part is checked first (a numeric dev_id, an MD5 of 32 hex digits, a version in OneNET's
/// format), so no task can name a file outside its device's folder.
pub fn download_path(data_dir: &Path, task: &OnenetTask) -> Result<PathBuf, ApiError> {
    let md5 = ids::md5(&task.md5)?;
    let version = match ids::target_version(&task.target_version)? {
        "" => "package",
        version => version,
    };
    Ok(device_dir(data_dir, &task.dev_id)?.join(format!("{version}-{}.bin", ids::prefix(md5, 8))))
}

/// Checks for the device's task (nothing changes in the cloud).
pub async fn check(
    target: &OnenetTarget,
    device: &OnenetDeviceRef,
) -> Result<Option<OnenetTask>, ApiError> {
    target.client()?.check_task(device).await
}

/// A check with what is already saved of the task's package under `data_dir`, for a window that
/// offers Resume. The task found is kept in the device's folder: it is the one a later
/// [`fetch_checked`] downloads (and a check that finds none forgets it).
pub async fn check_saved(
    target: &OnenetTarget,
    device: &OnenetDeviceRef,
    data_dir: &Path,
) -> Result<OnenetCheck, ApiError> {
    let task = check(target, device).await?;
    let dir = ensure_device_dir(data_dir, &device.dev_id)?;
    Ok(match task {
        Some(task) => {
            let path = download_path(data_dir, &task)?;
            task_store::keep(&dir, &task)?;
            OnenetCheck {
                saved_bytes: fetch::saved_offset(&path, &task),
                download_path: Some(path.display().to_string()),
                task: Some(task),
            }
        }
        None => {
            task_store::forget(&dir, device.task_type);
            OnenetCheck {
                task: None,
                saved_bytes: 0,
                download_path: None,
            }
        }
    })
}

/// The task a fetch for `dev_id` acts on: the one the last [`check_saved`] kept, or — when none is kept
/// (never checked, or older than its token) — what a fresh check with OneNET finds now.
pub async fn checked_task(
    target: &OnenetTarget,
    dev_id: &str,
    task_type: OnenetTaskType,
    data_dir: &Path,
) -> Result<OnenetTask, ApiError> {
    let dev_id = ids::dev_id(dev_id.trim())?;
    let dir = ensure_device_dir(data_dir, dev_id)?;
    if let Some(task) = task_store::kept(&dir, dev_id, task_type)? {
        return Ok(task);
    }
    let device = target.device_ref(dev_id, task_type, DeviceOverrides::default())?;
    check_saved(target, &device, data_dir).await?.task.ok_or_else(|| {
        ApiError::not_found(format!(
            "Device {dev_id} has no upgrade task of this type."
        ))
        .with_hint("Upgrade tasks are created in the OneNET console; check for the update again after that.")
    })
}

/// Fetches the package of the task the core checked for `dev_id` ([`checked_task`]) into the data
/// folder ([`download_path`]): nothing about the task — token, size, MD5, where it goes — comes from the
/// caller, so a window can only say which device. Audited like [`fetch`].
#[allow(clippy::too_many_arguments)]
pub async fn fetch_checked(
    console: &Console,
    target: &OnenetTarget,
    dev_id: &str,
    task_type: OnenetTaskType,
    data_dir: &Path,
    options: &FetchOptions,
    pause: PauseSignal,
    progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
) -> Result<FetchEnd, ApiError> {
    let task = checked_task(target, dev_id, task_type, data_dir).await?;
    let out = download_path(data_dir, &task)?;
    fetch(console, target, &task, &out, options, pause, progress).await
}

/// Fetches the task's package to `out` (resuming), verifies it and reports 101 (or 107 after deleting
/// bytes that fail their MD5); audited.
pub async fn fetch(
    console: &Console,
    target: &OnenetTarget,
    task: &OnenetTask,
    out: &Path,
    options: &FetchOptions,
    pause: PauseSignal,
    progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
) -> Result<FetchEnd, ApiError> {
    // Refused before anything is written, the audit log included.
    ids::task(task)?;
    let result = target
        .client()?
        .fetch_package(task, out, options, pause, progress)
        .await;
    let audited = match &result {
        Ok(FetchEnd::Paused { .. }) => None,
        Ok(FetchEnd::Done { .. }) => Some(Ok(())),
        Err(e) => Some(Err(e.clone())),
    };
    if let Some(outcome) = audited {
        console.audit(
            &format!("onenet.download {}", task.target_version),
            Some(Cloud::Onenet),
            Some(&task.dev_id),
            &outcome,
        );
    }
    result
}

/// Reports a result code for the task behind `token`; audited, and the fleet re-read after an upgrade
/// result so the device's row shows what OneNET now says.
pub async fn report(
    console: &Console,
    target: &OnenetTarget,
    dev_id: &str,
    token: &str,
    code: u16,
) -> Result<OnenetReportAnswer, ApiError> {
    let dev_id = ids::dev_id(dev_id.trim())?;
    let result = target.client()?.report(dev_id, token, code).await;
    console.audit(
        &format!("onenet.report {code}"),
        Some(Cloud::Onenet),
        Some(dev_id),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    if result.is_ok() && code >= 200 {
        if let Err(err) = console
            .refresh_accounts(std::slice::from_ref(&target.account))
            .await
        {
            tracing::info!(error = %err.display_line(), "refresh after a OneNET report failed");
        }
        console.notify(DataKind::Devices);
    }
    result
}
