//! Vicohome cameras: start an update once (or follow the one already running), update several at once
//! (`bulk`), and read a camera's update status as the cloud reports it.

mod bulk;

use std::time::Duration;

use ota_core::folder_lock::CliWork;

use crate::jobs::{follow, FollowedJob};
use crate::{Account, ApiError, App, Cloud, Device};

pub use bulk::{
    CameraUpdateEvent, CameraUpdatePlan, LeftOutCamera, LeftOutReason, BULK_UPDATE_CONCURRENCY,
};

/// The camera already runs the newest firmware its cloud offers. Unknown (the cloud does not say) is not
/// up to date: the update is still offered and the cloud answers for itself.
pub fn runs_newest_firmware(device: &Device) -> bool {
    device
        .newest_firmware
        .as_deref()
        .is_some_and(|newest| newest.trim() == device.firmware.trim())
}

/// How a start request ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    /// The start was sent now.
    Started,
    /// An update this store had already started (e.g. before the app was killed) is followed, never
    /// started a second time.
    AlreadyRunning,
}

/// A camera's update status, as the cloud reports it now.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CameraStatus {
    pub serial: String,
    pub in_progress: bool,
    pub ota_status: i32,
    pub percent: u8,
    pub phase: crate::jobs::JobPhase,
    pub transferred: u64,
    pub total: u64,
    pub error: Option<ApiError>,
}

impl App {
    /// Starts the update of camera `serial` (in `account_id`, or the Vicohome account in scope that lists
    /// it), or follows the one already under way. Progress arrives on the answer's `updates`.
    pub async fn start_vicohome_update(
        &self,
        account_id: Option<i64>,
        serial: &str,
        min_gap: Duration,
    ) -> Result<(FollowedJob, StartKind), ApiError> {
        let serial = serial.trim();
        let account_id = match account_id {
            Some(id) => id,
            None => self.camera_account(serial).await?.id,
        };
        let updates = self.console.subscribe_jobs();
        if let Some(running) = self.console.store().active_job_for(account_id, serial)? {
            let first = ota_core::jobs::watch_job(self.console.clone(), running.id)?;
            return Ok((follow(updates, first, min_gap), StartKind::AlreadyRunning));
        }
        self.may_begin(CliWork::StartUpdate(serial))?;
        let first =
            ota_core::jobs::start_vicohome_update(self.console.clone(), account_id, serial).await?;
        Ok((follow(updates, first, min_gap), StartKind::Started))
    }

    /// The camera's update status now, straight from the cloud.
    pub async fn vicohome_status(&self, serial: &str) -> Result<CameraStatus, ApiError> {
        let serial = serial.trim();
        let account = self.camera_account(serial).await?;
        let session = self.console.session(&account)?;
        let ota = session
            .vicohome()
            .ok_or_else(|| ApiError::internal("no Vicohome client for this account"))?;
        let status = ota.ota_status(serial).await?;
        let sample = ota_core::progress::vicohome_sample(
            status.ota_status,
            status.transferred,
            status.total,
            0,
        );
        Ok(CameraStatus {
            serial: status.serial,
            in_progress: status.in_progress,
            ota_status: status.ota_status,
            percent: sample.percent,
            phase: sample.phase,
            transferred: status.transferred,
            total: status.total,
            error: status.error,
        })
    }

    /// The account that holds this camera: the only Vicohome account in scope, else the one whose cached
    /// fleet lists it (refreshing the cache once if none does).
    async fn camera_account(&self, serial: &str) -> Result<Account, ApiError> {
        let vicohome = self.scope_of(Cloud::Vicohome)?;
        if vicohome.is_empty() {
            return Err(
                ApiError::not_found("No Vicohome account is configured.").with_hint(
                    "Add one with `otactl accounts add --cloud vicohome ...`, or use --sandbox.",
                ),
            );
        }
        if let [only] = vicohome.as_slice() {
            return Ok(only.clone());
        }
        for attempt in 0..2 {
            let holders = self.console.store().find_device(Cloud::Vicohome, serial)?;
            if let Some(account) = vicohome
                .iter()
                .find(|a| holders.iter().any(|d| d.account_id == a.id))
            {
                return Ok(account.clone());
            }
            if attempt == 0 {
                self.console.refresh_accounts(&vicohome).await?;
            }
        }
        Err(
            ApiError::not_found(format!("No Vicohome account lists the camera {serial}."))
                .with_hint("Check the serial number, or name the account with --account."),
        )
    }
}
