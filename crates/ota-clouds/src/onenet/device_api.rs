//! [`OnenetClient`] as the engine's [`OnenetDeviceApi`], which the workflows (`service`) reach through
//! `CloudSession::onenet`: the check, token check and report of `ota.rs`, and the resumable fetch of
//! `fetch/`. Tests and tools may still call the client (and `fetch::fetch`) directly.

use std::path::Path;

use async_trait::async_trait;
use ota_core::cloud::OnenetDeviceApi;
use ota_core::onenet::{
    FetchOptions, OnenetDeviceRef, OnenetDownloadProgress, OnenetFetchEnd, OnenetReportAnswer,
    OnenetTask, PauseSignal,
};
use ota_core::ApiError;

use super::client::OnenetClient;
use super::fetch;

#[async_trait]
impl OnenetDeviceApi for OnenetClient {
    async fn check_task(&self, device: &OnenetDeviceRef) -> Result<Option<OnenetTask>, ApiError> {
        OnenetClient::check_task(self, device).await
    }

    async fn check_download_token(&self, dev_id: &str, token: &str) -> Result<(), ApiError> {
        OnenetClient::check_download_token(self, dev_id, token).await
    }

    async fn report(
        &self,
        dev_id: &str,
        token: &str,
        code: u16,
    ) -> Result<OnenetReportAnswer, ApiError> {
        OnenetClient::report(self, dev_id, token, code).await
    }

    async fn fetch_package(
        &self,
        task: &OnenetTask,
        out: &Path,
        options: &FetchOptions,
        pause: PauseSignal,
        progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
    ) -> Result<OnenetFetchEnd, ApiError> {
        fetch::fetch(self, task, out, options, pause, progress).await
    }
}
