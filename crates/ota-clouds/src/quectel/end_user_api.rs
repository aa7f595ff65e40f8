//! [`QuectelClient`] as the engine's [`QuectelEndUserApi`], which the workflows (`service`) reach
//! through `CloudSession::quectel`. Each call is the client's own method of the same name (plans in
//! `plans.rs`, the switch in `auto_upgrade.rs`, Bluetooth in `ble.rs`), which tests and tools may still
//! call on the client directly.

use std::path::Path;

use async_trait::async_trait;
use ota_core::cloud::QuectelEndUserApi;
use ota_core::quectel::{
    BatchOutcome, BlePlan, BleReportStatus, PlanTarget, UpgradePlan, VerifiedPackage,
};
use ota_core::ApiError;

use super::client::QuectelClient;

#[async_trait]
impl QuectelEndUserApi for QuectelClient {
    async fn get_plan(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<Option<UpgradePlan>, ApiError> {
        QuectelClient::get_plan(self, product_key, device_key).await
    }

    async fn batch_details(&self, targets: &[PlanTarget]) -> Result<Vec<UpgradePlan>, ApiError> {
        QuectelClient::batch_details(self, targets).await
    }

    async fn confirm_upgrade(&self, targets: &[PlanTarget]) -> Result<BatchOutcome, ApiError> {
        QuectelClient::confirm_upgrade(self, targets).await
    }

    async fn appoint_upgrade(
        &self,
        targets: &[PlanTarget],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<BatchOutcome, ApiError> {
        QuectelClient::appoint_upgrade(self, targets, start_ms, end_ms).await
    }

    async fn cancel_upgrade(&self, targets: &[PlanTarget]) -> Result<BatchOutcome, ApiError> {
        QuectelClient::cancel_upgrade(self, targets).await
    }

    async fn retry_upgrade(&self, targets: &[PlanTarget]) -> Result<BatchOutcome, ApiError> {
        QuectelClient::retry_upgrade(self, targets).await
    }

    async fn get_auto_upgrade(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<bool, ApiError> {
        QuectelClient::get_auto_upgrade(self, product_key, device_key).await
    }

    async fn set_auto_upgrade(
        &self,
        product_key: &str,
        device_key: &str,
        on: bool,
    ) -> Result<(), ApiError> {
        QuectelClient::set_auto_upgrade(self, product_key, device_key, on).await
    }

    async fn delete_auto_upgrade(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<(), ApiError> {
        QuectelClient::delete_auto_upgrade(self, product_key, device_key).await
    }

    async fn fetch_plan(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<Option<BlePlan>, ApiError> {
        QuectelClient::fetch_plan(self, product_key, device_key).await
    }

    async fn report_status(
        &self,
        product_key: &str,
        device_key: &str,
        component_no: &str,
        status: BleReportStatus,
    ) -> Result<(), ApiError> {
        QuectelClient::report_status(self, product_key, device_key, component_no, status).await
    }

    async fn download_package_with_progress(
        &self,
        plan: &BlePlan,
        dir: &Path,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<VerifiedPackage, ApiError> {
        QuectelClient::download_package_with_progress(self, plan, dir, progress).await
    }
}
