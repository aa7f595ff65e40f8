//! What every command runs with: the engine over the chosen store, and the sandbox when asked for.

use std::sync::Arc;

use ota_core::{Account, ApiError, Console, Keychain, Store};

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
        let data_dir = cli
            .data_dir
            .clone()
            .unwrap_or_else(ota_core::paths::data_dir);
        let store = Store::open_in(&data_dir)?;
        let time_scale: f64 = std::env::var("OTA_CONSOLE_TIME_SCALE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1.0);
        let console = Arc::new(
            Console::new(
                store,
                Arc::new(Keychain::default()),
                Arc::new(ota_clouds::CloudConnector::default()),
            )
            .with_job_options(ota_core::jobs::JobOptions::scaled(time_scale)),
        );
        let mut sim = None;
        let sim_url = if cli.sandbox {
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
            Some(url)
        } else {
            cli.sim_url.clone()
        };
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
}
