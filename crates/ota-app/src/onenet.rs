//! OneNET device-side OTA on a device's behalf: sign a token, check for its task, fetch the package
//! (resumable, MD5-verified, 101 reported — or 107 and the bytes deleted when the MD5 does not match),
//! report results. One download per device at a time in this process, which Pause can stop part-way.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

pub use ota_clouds::onenet::fetch::{saved_offset, FetchOptions};
pub use ota_clouds::onenet::results::RESULT_CODES;
pub use ota_clouds::onenet::service::DeviceOverrides;
pub use ota_clouds::onenet::token::{Resource, TokenMethod, TokenRequest};
pub use ota_core::onenet::*;

use ota_clouds::onenet::{ids, results, service};

use crate::{ApiError, App, ErrorKind, Secret};

/// Downloads running now in this process, by dev_id, with the switch that pauses each.
#[derive(Default)]
pub(crate) struct Downloads(Mutex<HashMap<String, PauseSwitch>>);

/// Frees the device's slot when the download ends, however it ends.
struct DownloadSlot<'a> {
    downloads: &'a Downloads,
    dev_id: String,
}

impl Drop for DownloadSlot<'_> {
    fn drop(&mut self) {
        self.downloads
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.dev_id);
    }
}

impl Downloads {
    fn begin(&self, dev_id: &str) -> Result<(DownloadSlot<'_>, PauseSignal), ApiError> {
        let mut running = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains_key(dev_id) {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("Device {dev_id}'s package is being downloaded already."),
            ));
        }
        let (switch, signal) = pause_switch();
        running.insert(dev_id.to_string(), switch);
        Ok((
            DownloadSlot {
                downloads: self,
                dev_id: dev_id.to_string(),
            },
            signal,
        ))
    }

    fn pause(&self, dev_id: &str) -> bool {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).get(dev_id) {
            Some(switch) => {
                switch.pause();
                true
            }
            None => false,
        }
    }
}

/// The result codes a device reports, and what each means.
pub fn result_codes() -> Vec<OnenetResultCode> {
    results::catalogue()
}

/// An `Authorization` value (OneNET security authentication), computed locally: for the product, or for
/// one device (`res=products/P/devices/NAME`) with that device's key.
pub fn sign_token(
    product_id: &str,
    access_key: &Secret,
    device: Option<&str>,
    expires_at: Option<u64>,
    method: TokenMethod,
) -> Result<String, ApiError> {
    let res = match device {
        Some(device_name) => Resource::Device {
            product_id: product_id.to_string(),
            device_name: device_name.to_string(),
        },
        None => Resource::Product(product_id.to_string()),
    };
    let mut request = TokenRequest::new(res);
    request.method = method;
    if let Some(et) = expires_at {
        request.et = et;
    }
    ota_clouds::onenet::token::sign(access_key, &request).map_err(|e| {
        ApiError::validation(format!("No token: {e}")).with_hint(
            "The access key is the base64 text on the product's page in the OneNET console.",
        )
    })
}

impl App {
    /// Asks OneNET for the device's task, with what is already saved of its package in the data folder
    /// (the window offers Resume). The task found is the one a later [`App::onenet_fetch`] downloads.
    pub async fn onenet_check(
        &self,
        dev_id: &str,
        task_type: OnenetTaskType,
    ) -> Result<OnenetCheck, ApiError> {
        self.wait_ready().await;
        let target = service::locate(&self.console, &self.scope()?, dev_id).await?;
        let device = target.device_ref(dev_id, task_type, DeviceOverrides::default())?;
        service::check_saved(&target, &device, &self.data_dir).await
    }

    /// Asks OneNET for the device's task (nothing is kept); `overrides` replace what the cache knows.
    pub async fn onenet_find_task(
        &self,
        dev_id: &str,
        task_type: OnenetTaskType,
        overrides: DeviceOverrides,
    ) -> Result<Option<OnenetTask>, ApiError> {
        let target = service::locate(&self.console, &self.scope()?, dev_id).await?;
        let device = target.device_ref(dev_id, task_type, overrides)?;
        service::check(&target, &device).await
    }

    /// Downloads the package of the task the last check found (or finds now) into the data folder.
    pub async fn onenet_fetch(
        &self,
        dev_id: &str,
        task_type: OnenetTaskType,
        progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
    ) -> Result<OnenetFetchEnd, ApiError> {
        let dev_id = ids::dev_id(dev_id.trim())?.to_string();
        self.wait_ready().await;
        let target = service::locate(&self.console, &self.scope()?, &dev_id).await?;
        let (_slot, pause) = self.downloads.begin(&dev_id)?;
        service::fetch_checked(
            &self.console,
            &target,
            &dev_id,
            task_type,
            &self.data_dir,
            &FetchOptions::default(),
            pause,
            progress,
        )
        .await
    }

    /// Downloads `task`'s package to `out` (resuming what a cut download left there); `report`: send
    /// 101 / 107 for the download.
    pub async fn onenet_fetch_to(
        &self,
        task: &OnenetTask,
        out: &Path,
        report: bool,
        progress: &mut (dyn FnMut(OnenetDownloadProgress) + Send),
    ) -> Result<OnenetFetchEnd, ApiError> {
        let target = service::locate(&self.console, &self.scope()?, &task.dev_id).await?;
        let (_slot, pause) = self.downloads.begin(&task.dev_id)?;
        let options = FetchOptions {
            report,
            ..FetchOptions::default()
        };
        service::fetch(&self.console, &target, task, out, &options, pause, progress).await
    }

    /// Pauses the device's running download; false when none runs.
    pub fn onenet_pause(&self, dev_id: &str) -> bool {
        self.downloads.pause(dev_id)
    }

    /// Reports a result code for a task.
    pub async fn onenet_report(
        &self,
        dev_id: &str,
        token: &str,
        code: u16,
    ) -> Result<OnenetReportAnswer, ApiError> {
        let target = service::locate(&self.console, &self.scope()?, dev_id).await?;
        service::report(&self.console, &target, dev_id, token, code).await
    }
}
