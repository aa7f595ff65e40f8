//! What the engine needs from a cloud, as traits. `ota-clouds` implements them with real HTTP clients;
//! the engine (fleet refresh, jobs, campaigns) and the per-cloud workflows depend only on these.
//!
//! A [`CloudSession`] is one signed-in account; what its cloud offers beyond the device list is reached
//! through typed accessors, each `None` for a cloud without it: [`CloudSession::vicohome`] (camera OTA),
//! [`CloudSession::quectel`] ([`QuectelEndUserApi`], `quectel_api.rs`), [`CloudSession::onenet`]
//! ([`OnenetDeviceApi`], `onenet_api.rs`) and [`CloudSession::fleet_updates`] (campaigns).

mod onenet_api;
mod quectel_api;

pub use onenet_api::OnenetDeviceApi;
pub use quectel_api::QuectelEndUserApi;

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::ApiError;
use crate::model::{Account, Device};
use crate::secrets::{Secret, SecretSlot, SecretStore};

/// What a client needs to sign in to one account.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// E-mail (Vicohome, Quectel) or product id (OneNET).
    pub username: Option<String>,
    /// Password, access key or token.
    pub secret: Secret,
}

/// Where a client keeps the session token a cloud issued, so a restart need not sign in again.
/// Real accounts keep it in the keychain; sandbox sessions live in memory only.
#[derive(Clone)]
pub struct SessionCache {
    inner: Option<(Arc<dyn SecretStore>, String)>,
    memory: Arc<std::sync::Mutex<Option<Secret>>>,
}

impl SessionCache {
    /// `key`: where the account's secrets are filed ([`crate::secrets::account_key`]).
    pub fn keychain(store: Arc<dyn SecretStore>, key: &str) -> Self {
        Self {
            inner: Some((store, key.to_string())),
            memory: Arc::default(),
        }
    }

    pub fn in_memory() -> Self {
        Self {
            inner: None,
            memory: Arc::default(),
        }
    }

    pub fn get(&self) -> Option<Secret> {
        if let Some(secret) = self.memory.lock().ok().and_then(|m| m.clone()) {
            return Some(secret);
        }
        let (store, name) = self.inner.as_ref()?;
        let secret = store.get(name, SecretSlot::Session).ok().flatten()?;
        if let Ok(mut m) = self.memory.lock() {
            *m = Some(secret.clone());
        }
        Some(secret)
    }

    pub fn set(&self, secret: Option<Secret>) {
        if let Ok(mut m) = self.memory.lock() {
            m.clone_from(&secret);
        }
        if let Some((store, name)) = &self.inner {
            let result = match &secret {
                Some(s) => store.set(name, SecretSlot::Session, s),
                None => store.delete(name, SecretSlot::Session),
            };
            if let Err(err) = result {
                tracing::warn!(account = %name, error = %err, "could not keep the session token in the keychain");
            }
        }
    }
}

/// Raw Vicohome OTA status (`data` of otastart / otastatus), before the progress mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VicohomeOtaStatus {
    pub serial: String,
    pub in_progress: bool,
    pub ota_status: i32,
    pub transferred: u64,
    pub total: u64,
    pub target_firmware: Option<String>,
    /// Set when the cloud reported a failure code alongside the status (-10401 / -10402).
    pub error: Option<ApiError>,
}

#[async_trait]
pub trait VicohomeOta: Send + Sync {
    async fn start_ota(&self, serial: &str) -> Result<VicohomeOtaStatus, ApiError>;
    async fn ota_status(&self, serial: &str) -> Result<VicohomeOtaStatus, ApiError>;
    /// Firmware the camera runs now (selectsingledevice), to confirm a finished update.
    async fn current_firmware(&self, serial: &str) -> Result<Option<String>, ApiError>;
}

/// One signed-in account of a cloud.
#[async_trait]
pub trait CloudSession: Send + Sync {
    /// The account's devices as its cloud lists them now (`account_id` is filled in by the engine).
    async fn list_devices(&self) -> Result<Vec<Device>, ApiError>;

    /// Checks the credentials the session was built with against the cloud, so a wrong password is
    /// found where it was typed. Built with an empty session cache this signs in afresh; the answer says
    /// in words what was checked. By default: sign in and list the account's devices.
    async fn verify(&self) -> Result<String, ApiError> {
        let devices = self.list_devices().await?;
        Ok(format!(
            "Signed in; the cloud lists {} device{}.",
            devices.len(),
            if devices.len() == 1 { "" } else { "s" }
        ))
    }

    fn vicohome(&self) -> Option<&dyn VicohomeOta> {
        None
    }

    /// How campaigns and the firmware library drive this cloud: its own per-device update mechanism and,
    /// where the cloud allows, publishing a package.
    fn fleet_updates(&self) -> Option<&dyn FleetUpdates> {
        None
    }

    /// Quectel's end-user API (upgrade plans, auto-upgrade, Bluetooth), for a Quectel account.
    fn quectel(&self) -> Option<&dyn QuectelEndUserApi> {
        None
    }

    /// OneNET's device-side OTA API (check, fetch, report), for a OneNET account.
    fn onenet(&self) -> Option<&dyn OnenetDeviceApi> {
        None
    }
}

/// One device a campaign updates, with what it needs to address it on its cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateTarget {
    pub device_id: String,
    /// Quectel productKey, OneNET product id.
    pub product_key: Option<String>,
    pub model: String,
    /// The firmware version the campaign installs.
    pub version: String,
    /// Package size in bytes (a OneNET task announces it).
    pub size: u64,
    pub md5: String,
}

/// A device's update as its cloud reports it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteUpdate {
    /// Nothing running for the campaign's version (never started, or the cloud forgot a finished one).
    Idle,
    /// Accepted and moving: `percent` is the cloud's own figure (0–100), `state` its words for the step.
    Updating { percent: u8, state: String },
    /// The device runs the campaign's version.
    Succeeded,
    /// The cloud reports that this device's update failed.
    Failed(ApiError),
}

/// What publishing a package did on a cloud, in words (plan id, task count, models offered it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReceipt {
    pub detail: String,
}

/// A package to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRequest {
    pub version: String,
    /// `None`: every model of the account.
    pub model: Option<String>,
    pub size: u64,
    pub md5: String,
    pub sha256: String,
    /// Product keys of the account's devices of that model (Quectel plans are per product).
    pub product_keys: Vec<String>,
}

/// A cloud's own mechanism for updating one device, as campaigns use it. Implemented per cloud in
/// `ota-clouds` (Vicohome start + status, Quectel plan confirm + plan status, OneNET tasks).
#[async_trait]
pub trait FleetUpdates: Send + Sync {
    /// Why this account cannot update `target` in a campaign (e.g. a Bluetooth device, or a cloud with
    /// no public API for it); `None` when it can.
    fn unsupported(&self, target: &UpdateTarget, transport: Option<&str>) -> Option<String>;

    /// The device's update now. Read before every start (so a device already updating is followed, not
    /// started again) and then to follow it.
    async fn observe(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError>;

    /// Sends the cloud's "update this device" action once.
    async fn start(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError>;

    /// The firmware version the cloud reports the device running now, read from its details (not from
    /// the update's status): after an update the cloud called a success, a campaign checks it is the
    /// target (verified success). `None`: the cloud reports no version for it.
    async fn reported_version(&self, target: &UpdateTarget) -> Result<Option<String>, ApiError>;

    /// Makes the package the update the cloud offers to matching devices, where the cloud allows it.
    /// A cloud whose upload API is not known answers with an error that says so and where to do it.
    async fn publish(&self, package: &PublishRequest) -> Result<PublishReceipt, ApiError>;
}

/// Builds sessions from accounts. Implemented by `ota-clouds`.
pub trait Connector: Send + Sync {
    fn connect(
        &self,
        account: &Account,
        credentials: Credentials,
        session: SessionCache,
    ) -> Result<Arc<dyn CloudSession>, ApiError>;
}
