//! Each cloud's own per-device update mechanism, as campaigns and the firmware library use it
//! ([`FleetUpdates`]), one module per cloud: `vicohome` (start + status), `quectel` (plan confirm or
//! retry + plan status), `onenet` (tasks). Publishing, and OneNET tasks, go through the simulator's
//! management API ([`crate::sandbox_admin`]) for sandbox accounts; for a real account of a cloud whose
//! upload API is not known, the answer says so and where to do it instead.

mod onenet;
mod quectel;
mod vicohome;

use std::sync::Arc;

use async_trait::async_trait;
use ota_core::cloud::{
    CloudSession, FleetUpdates, OnenetDeviceApi, QuectelEndUserApi, VicohomeOta,
};
use ota_core::{ApiError, Device, ErrorKind};

pub use onenet::OnenetUpdates;
pub use quectel::QuectelUpdates;
pub use vicohome::VicohomeUpdates;

/// A signed-in client with its update mechanism: every other call goes to the client itself.
pub struct WithUpdates {
    pub inner: Arc<dyn CloudSession>,
    pub updates: Box<dyn FleetUpdates>,
}

#[async_trait]
impl CloudSession for WithUpdates {
    async fn list_devices(&self) -> Result<Vec<Device>, ApiError> {
        self.inner.list_devices().await
    }

    async fn verify(&self) -> Result<String, ApiError> {
        self.inner.verify().await
    }

    fn vicohome(&self) -> Option<&dyn VicohomeOta> {
        self.inner.vicohome()
    }

    fn quectel(&self) -> Option<&dyn QuectelEndUserApi> {
        self.inner.quectel()
    }

    fn onenet(&self) -> Option<&dyn OnenetDeviceApi> {
        self.inner.onenet()
    }

    fn fleet_updates(&self) -> Option<&dyn FleetUpdates> {
        Some(self.updates.as_ref())
    }
}

/// The version a device list reports for `target` (None: not listed, or no version): for a cloud with no
/// per-device read (Quectel's end-user API).
fn version_in(devices: &[Device], target: &ota_core::cloud::UpdateTarget) -> Option<String> {
    devices
        .iter()
        .find(|d| d.id == target.device_id)
        .map(|d| d.firmware.clone())
        .filter(|v| !v.is_empty())
}

/// Publishing to a real account of a cloud with no known upload API: what to do instead.
fn no_upload_api(cloud: &str, instead: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Validation,
        format!("{cloud} publishes no API for uploading firmware, so OTA Console cannot publish it there."),
    )
    .with_hint(instead.to_string())
}
