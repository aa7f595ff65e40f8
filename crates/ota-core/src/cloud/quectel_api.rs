//! What the Quectel workflows (`ota_clouds::quectel::service`) ask of a signed-in Quectel account: its
//! Developer Center end-user API for upgrade plans, the auto-upgrade switch and Bluetooth updates.

use std::path::Path;

use async_trait::async_trait;

use crate::error::ApiError;
use crate::quectel::{
    BatchOutcome, BlePlan, BleReportStatus, PlanTarget, UpgradePlan, VerifiedPackage,
};

/// Quectel's end-user API as the workflows use it. Implemented by `ota_clouds::quectel::QuectelClient`;
/// reached through [`super::CloudSession::quectel`]. Reads are retried by the client; actions that
/// change a plan are sent once.
#[async_trait]
pub trait QuectelEndUserApi: Send + Sync {
    /// The device's upgrade plan, or `None` when the cloud has none for it.
    async fn get_plan(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<Option<UpgradePlan>, ApiError>;

    /// Plan details of many devices at once (the vendor apps poll this every 3 s).
    async fn batch_details(&self, targets: &[PlanTarget]) -> Result<Vec<UpgradePlan>, ApiError>;

    /// "Upgrade now" for these devices.
    async fn confirm_upgrade(&self, targets: &[PlanTarget]) -> Result<BatchOutcome, ApiError>;

    /// Appoints the window `start_ms..end_ms` (Unix ms) for these devices. Every window is checked
    /// against its plan first (inside the plan period, at least an hour); nothing is sent when one breaks
    /// a rule.
    async fn appoint_upgrade(
        &self,
        targets: &[PlanTarget],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<BatchOutcome, ApiError>;

    /// Cancels the plans for these devices (each ends as failed).
    async fn cancel_upgrade(&self, targets: &[PlanTarget]) -> Result<BatchOutcome, ApiError>;

    /// Issues failed plans again at once.
    async fn retry_upgrade(&self, targets: &[PlanTarget]) -> Result<BatchOutcome, ApiError>;

    /// Whether the device is in user auto-confirmation mode.
    async fn get_auto_upgrade(&self, product_key: &str, device_key: &str)
        -> Result<bool, ApiError>;

    /// Turns auto-confirmation mode on or off.
    async fn set_auto_upgrade(
        &self,
        product_key: &str,
        device_key: &str,
        on: bool,
    ) -> Result<(), ApiError>;

    /// Deletes the device's auto-confirmation setting (auto mode off).
    async fn delete_auto_upgrade(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<(), ApiError>;

    /// The Bluetooth device's upgrade plan, or `None` when there is none.
    async fn fetch_plan(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<Option<BlePlan>, ApiError>;

    /// Reports a step or the result of a Bluetooth upgrade.
    async fn report_status(
        &self,
        product_key: &str,
        device_key: &str,
        component_no: &str,
        status: BleReportStatus,
    ) -> Result<(), ApiError>;

    /// Downloads the plan's package into `dir`, calling `progress` with the bytes received so far. The
    /// file is kept only when its SHA-256 matches the plan's `fileSign` (and its size `fileSize`).
    async fn download_package_with_progress(
        &self,
        plan: &BlePlan,
        dir: &Path,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<VerifiedPackage, ApiError>;
}
