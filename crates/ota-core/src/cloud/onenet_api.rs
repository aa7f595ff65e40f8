//! What the OneNET workflows (`ota_clouds::onenet::service`) ask of a OneNET product: the device-side
//! OTA API a device would use — check for a task, fetch its package, report results.

use std::path::Path;

use async_trait::async_trait;

use crate::error::ApiError;
use crate::onenet::{
    FetchOptions, OnenetDeviceRef, OnenetDownloadProgress, OnenetFetchEnd, OnenetReportAnswer,
    OnenetTask, PauseSignal,
};

/// OneNET's device-side OTA API as the workflows use it. Implemented by
/// `ota_clouds::onenet::OnenetClient`; reached through [`super::CloudSession::onenet`].
#[async_trait]
pub trait OnenetDeviceApi: Send + Sync {
    /// The device's pending task, or `None` when there is none of its type (nothing changes in the
    /// cloud).
    async fn check_task(&self, device: &OnenetDeviceRef) -> Result<Option<OnenetTask>, ApiError>;

    /// Checks the task's download token; OneNET moves the task to "downloading". Repeating it while
    /// downloading is allowed.
    async fn check_download_token(&self, dev_id: &str, token: &str) -> Result<(), ApiError>;

    /// A result code for the task behind `token`. Sent once: a report that arrived twice would be
    /// refused the second time.
    async fn report(
        &self,
        dev_id: &str,
        token: &str,
        code: u16,
    ) -> Result<OnenetReportAnswer, ApiError>;

    /// Downloads `task`'s package to `out`, resuming `<out>.part` when it holds the same package;
    /// verifies the MD5 and reports 101, or deletes the bytes and reports 107 when they do not match.
    async fn fetch_package(
        &self,
        task: &OnenetTask,
        out: &Path,
        options: &FetchOptions,
        pause: PauseSignal,
        progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
    ) -> Result<OnenetFetchEnd, ApiError>;
}
