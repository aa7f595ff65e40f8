//! What the engine needs from a cloud, as traits. `ota-clouds` implements them with real HTTP clients;
//! the engine (fleet refresh, jobs, campaigns) depends only on these.

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
    pub fn keychain(store: Arc<dyn SecretStore>, account_name: &str) -> Self {
        Self {
            inner: Some((store, account_name.to_string())),
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

    fn vicohome(&self) -> Option<&dyn VicohomeOta> {
        None
    }

    /// The concrete client, for adapters that use a cloud's own API beyond these traits (e.g. Quectel
    /// upgrade plans); downcast with `downcast_ref`.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
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
