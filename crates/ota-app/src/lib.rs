//! OTA Console's use cases: one async function per thing a user does, for every cloud. The window
//! (`src-tauri`) and `otactl` call this layer and nothing below it; they only translate (IPC types, clap
//! arguments and printing). It owns start-up ([`App::open`]: store, keychain, sandbox, time scale), the
//! registries a running process holds (OneNET downloads, background work) and which accounts a command
//! acts on ([`Scope`]). Rules live in the engine (`ota-core`) or here, once.
//!
//! The types the shells need are re-exported by feature (`ota_app::campaigns::CampaignView`, …), so a
//! shell depends on this crate alone.

pub mod accounts;
pub mod audit;
pub mod campaigns;
pub mod changes;
pub mod cohorts;
pub mod devices;
pub mod firmware;
pub mod fleet;
pub mod jobs;
pub mod metrics;
pub mod onenet;
mod open;
pub mod quectel;
pub mod serve;
pub mod startup;
pub mod team;
pub mod vicohome;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use open::{Launcher, OpenOptions, SandboxChoice, SandboxStatus, SimSettings, TeamDatabase};
pub use ota_core::model::*;
pub use ota_core::{ApiError, CoreError, DataKind, ErrorKind, Secret};

use ota_core::Console;

/// One running OTA Console (a window, or one `otactl` command): the engine over the chosen store, the
/// sandbox when there is one, and what this process is doing.
pub struct App {
    console: Arc<Console>,
    data_dir: PathBuf,
    launcher: Launcher,
    scope: Scope,
    sandbox_choice: SandboxChoice,
    sandbox: Mutex<SandboxStatus>,
    /// Keeps an in-process simulator alive for as long as the app runs.
    sim: Mutex<Option<ota_sim::SimHandle>>,
    ready: tokio::sync::watch::Sender<bool>,
    downloads: onenet::Downloads,
    /// What start-up has to tell the user, said by [`App::connect_sandbox`].
    start_warnings: Mutex<Vec<String>>,
    /// Which team database start-up was told to open, and why it is not in use when it is not.
    team: team::TeamStart,
}

/// Which accounts a command acts on.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Only this account (`otactl --account NAME`).
    pub account: Option<String>,
    /// Only sandbox accounts (`otactl --sandbox` / `--sim-url`: the simulator's accounts).
    pub sandbox_only: bool,
}

impl App {
    /// Team mode: the data is a PostgreSQL shared with other desks and `otactl serve` runners.
    pub fn is_team_mode(&self) -> bool {
        self.console.store().is_shared()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The accounts this app acts on now: every account in the window; for `otactl`, the one named with
    /// `--account`, or the simulator's when it runs against one.
    pub fn scope(&self) -> Result<Vec<Account>, ApiError> {
        let accounts = self.console.accounts()?;
        if let Some(name) = &self.scope.account {
            let named: Vec<Account> = accounts.into_iter().filter(|a| &a.name == name).collect();
            if named.is_empty() {
                return Err(ApiError::not_found(format!("No account named “{name}”."))
                    .with_hint("`otactl accounts list` shows the accounts."));
            }
            return Ok(named);
        }
        if self.scope.sandbox_only {
            return Ok(accounts.into_iter().filter(|a| a.sandbox).collect());
        }
        Ok(accounts)
    }

    /// The accounts in scope of one cloud.
    fn scope_of(&self, cloud: Cloud) -> Result<Vec<Account>, ApiError> {
        Ok(self
            .scope()?
            .into_iter()
            .filter(|a| a.cloud == cloud)
            .collect())
    }

    /// Whether this process may begin new work on the folder: a window may; `otactl` may unless a window
    /// has the folder open (`ota_core::folder_lock`).
    fn may_begin(&self, work: ota_core::folder_lock::CliWork<'_>) -> Result<(), ApiError> {
        match self.launcher {
            Launcher::Window => Ok(()),
            Launcher::Cli => ota_core::folder_lock::cli_may_begin(&self.data_dir, work),
        }
    }
}

/// Runs blocking work (hashing, copying, writing a file) off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("the file work stopped: {e}")))?
}
