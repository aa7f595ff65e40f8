//! What every command runs with: the engine over the chosen store, and the sandbox when asked for.

use std::sync::Arc;

use ota_core::{Account, ApiError, Cloud, Console, Keychain, Store};

use crate::Cli;

pub struct Context {
    pub console: Arc<Console>,
    /// Accounts the command acts on (all, the sandbox ones, or the one named by --account).
    pub scope: Vec<Account>,
    /// Keeps an in-process simulator alive for the command's lifetime.
    _sim: Option<ota_sim::SimHandle>,
}

impl Context {
    pub async fn open(cli: &Cli) -> Result<Self, ApiError> {
        let data_dir = match &cli.data_dir {
            Some(dir) => dir.clone(),
            None => ota_core::paths::data_dir()?,
        };
        let store = Store::open_in(&data_dir)?;
        // OTA_CONSOLE_TIME_SCALE wins; otherwise `--sim-url` polls at the pace of that simulator's clock.
        let explicit_scale: Option<f64> = std::env::var("OTA_CONSOLE_TIME_SCALE")
            .ok()
            .and_then(|v| v.parse().ok());
        let mut sim = None;
        let (sim_url, time_scale) = if cli.sandbox {
            let time_scale = explicit_scale.unwrap_or(1.0);
            let config = ota_sim::SimConfig {
                time_scale,
                ..Default::default()
            };
            let handle = ota_sim::spawn(config, std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .map_err(|e| {
                    ApiError::internal(format!("the sandbox simulator could not start: {e}"))
                })?;
            let url = handle.url();
            sim = Some(handle);
            (Some(url), time_scale)
        } else if let Some(url) = &cli.sim_url {
            let time_scale = match explicit_scale {
                Some(scale) => scale,
                None => ota_clouds::sandbox::sim_time_scale(url)
                    .await
                    .unwrap_or_else(|err| {
                        // Unreachable is said once, below, where the sandbox accounts are attached.
                        if err.code != ota_core::ErrorKind::Offline {
                            eprintln!(
                                "warning: could not read the simulator's time scale at {url} ({}); polling in real time",
                                err.display_line()
                            );
                        }
                        1.0
                    }),
            };
            (Some(url.clone()), time_scale)
        } else {
            (None, explicit_scale.unwrap_or(1.0))
        };
        let console = Arc::new(
            Console::new(
                store,
                Arc::new(Keychain::default()),
                Arc::new(ota_clouds::CloudConnector::default()),
            )
            .with_job_options(ota_core::jobs::JobOptions::scaled(time_scale)),
        );
        let mut scope = console.accounts()?;
        if let Some(url) = &sim_url {
            scope = match ota_clouds::sandbox::attach(&console, url).await {
                Ok(attached) => attached,
                Err(err) => {
                    // Still useful: the cached sandbox fleet answers, with a clear warning.
                    eprintln!(
                        "warning: the simulator at {url} is unreachable ({}); using the cached sandbox data",
                        err.display_line()
                    );
                    scope.into_iter().filter(|a| a.sandbox).collect()
                }
            };
        }
        if let Some(name) = &cli.account {
            scope = console
                .accounts()?
                .into_iter()
                .filter(|a| &a.name == name)
                .collect();
            if scope.is_empty() {
                return Err(ApiError::not_found(format!("No account named “{name}”."))
                    .with_hint("`otactl accounts list` shows the accounts."));
            }
        }
        Ok(Self {
            console,
            scope,
            _sim: sim,
        })
    }

    /// For commands that select devices from the cache: when it holds no device of `cloud` (or none at
    /// all) for the accounts in scope, the fleet is fetched from the clouds first, so a new data folder
    /// works without a `otactl devices list` before it. What could not be fetched is said, with what to run.
    pub async fn ensure_fleet_cached(&self, cloud: Option<Cloud>) -> Result<(), ApiError> {
        let accounts: Vec<Account> = self
            .scope
            .iter()
            .filter(|a| cloud.is_none_or(|c| a.cloud == c))
            .cloned()
            .collect();
        if accounts.is_empty() {
            return Ok(());
        }
        let cached = self.console.store().device_counts_by_account()?;
        if accounts
            .iter()
            .any(|a| cached.get(&a.id).copied().unwrap_or(0) > 0)
        {
            return Ok(());
        }
        eprintln!(
            "The cache holds no {}devices yet; fetching the fleet from the cloud first…",
            cloud.map(|c| format!("{} ", c.label())).unwrap_or_default()
        );
        let freshness = self.console.refresh_accounts(&accounts).await?;
        for failed in freshness
            .accounts
            .iter()
            .filter(|a| a.error.is_some() && accounts.iter().any(|b| b.id == a.account_id))
        {
            if let Some(err) = &failed.error {
                eprintln!(
                    "warning: {}: {} — run `otactl devices list` once it can be reached",
                    failed.account_name,
                    err.display_line()
                );
            }
        }
        Ok(())
    }
}
