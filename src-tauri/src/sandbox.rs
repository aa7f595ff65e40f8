//! Sandbox mode: with no real accounts, the built-in simulator of the three clouds backs one "Sandbox"
//! account per cloud. `OTA_CONSOLE_SIM_URL` points the sandbox at a running `ota-sim` instead.

use std::sync::{Arc, Mutex};

use ota_core::Console;

use crate::state::SandboxStatus;

pub struct SandboxSettings {
    pub external_url: Option<String>,
    pub seed: u64,
    pub devices: usize,
    pub time_scale: f64,
}

impl SandboxSettings {
    pub fn from_env() -> Self {
        fn parsed<T: std::str::FromStr>(name: &str) -> Option<T> {
            std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
        }
        Self {
            external_url: std::env::var("OTA_CONSOLE_SIM_URL")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            seed: parsed("OTA_CONSOLE_SIM_SEED").unwrap_or(42),
            devices: parsed("OTA_CONSOLE_SIM_DEVICES").unwrap_or(240),
            time_scale: parsed("OTA_CONSOLE_TIME_SCALE").unwrap_or(2.0),
        }
    }
}

/// Starts (or connects to) the simulator and attaches the sandbox accounts. Returns the in-process
/// simulator, which must be kept alive. Failures leave the cached fleet in place and are logged.
pub async fn start(
    console: &Arc<Console>,
    settings: &SandboxSettings,
    status: &Arc<Mutex<SandboxStatus>>,
) -> Option<ota_sim::SimHandle> {
    match console.wants_sandbox() {
        Ok(true) => {}
        Ok(false) => return None,
        Err(err) => {
            tracing::error!(error = %err.display_line(), "cannot read accounts");
            return None;
        }
    }
    let (url, handle) = match &settings.external_url {
        Some(url) => (url.trim_end_matches('/').to_string(), None),
        None => {
            let config = ota_sim::SimConfig {
                devices: settings.devices,
                seed: settings.seed,
                time_scale: settings.time_scale,
                ..Default::default()
            };
            let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            match ota_sim::spawn(config, listen).await {
                Ok(handle) => (handle.url(), Some(handle)),
                Err(err) => {
                    tracing::error!(error = %err, "the sandbox simulator could not start");
                    return None;
                }
            }
        }
    };
    if let Ok(mut s) = status.lock() {
        *s = SandboxStatus {
            active: true,
            sim_url: Some(url.clone()),
        };
    }
    match ota_clouds::sandbox::attach(console, &url).await {
        Ok(accounts) => tracing::info!(url, accounts = accounts.len(), "sandbox ready"),
        Err(err) => {
            tracing::warn!(url, error = %err.display_line(), "sandbox simulator unreachable; showing the cached fleet")
        }
    }
    handle
}
