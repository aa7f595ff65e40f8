//! Start-up, once for the window and `otactl`: the store in the data folder, the keychain, the cloud
//! clients, the job pace (scaled to the simulator's clock) and the sandbox.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ota_core::cloud::Connector;
use ota_core::jobs::JobOptions;
use ota_core::{Console, Keychain, SecretStore, Store};

use crate::team::TeamStart;
use crate::{ApiError, App, ErrorKind, Scope};

/// Who runs the app: it decides whether new work may begin while a window has the folder open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launcher {
    Window,
    Cli,
}

/// The built-in simulator's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSettings {
    pub seed: u64,
    pub devices: usize,
    /// Simulated seconds per real second; jobs poll at the same pace.
    pub time_scale: f64,
}

/// The sandbox's simulated time runs this much faster in the window than in real life, so a first try of
/// an update takes a minute, not several.
const WINDOW_TIME_SCALE: f64 = 2.0;
/// `otactl --sandbox` runs at the clouds' real pace unless told otherwise (scripts measure it).
const CLI_TIME_SCALE: f64 = 1.0;
/// Cameras in the window's sandbox fleet.
const WINDOW_SANDBOX_DEVICES: usize = 240;

fn env_parsed<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// `OTA_CONSOLE_TIME_SCALE`, when set.
fn time_scale_from_env() -> Option<f64> {
    env_parsed("OTA_CONSOLE_TIME_SCALE")
}

impl SimSettings {
    /// The window's sandbox: `OTA_CONSOLE_SIM_SEED`, `OTA_CONSOLE_SIM_DEVICES`, `OTA_CONSOLE_TIME_SCALE`.
    pub fn window_from_env() -> Self {
        Self {
            seed: env_parsed("OTA_CONSOLE_SIM_SEED").unwrap_or(42),
            devices: env_parsed("OTA_CONSOLE_SIM_DEVICES").unwrap_or(WINDOW_SANDBOX_DEVICES),
            time_scale: time_scale_from_env().unwrap_or(WINDOW_TIME_SCALE),
        }
    }

    /// `otactl --sandbox`: the simulator's default fleet at `OTA_CONSOLE_TIME_SCALE` (default real time).
    pub fn cli_from_env() -> Self {
        let defaults = ota_sim::SimConfig::default();
        Self {
            seed: defaults.seed,
            devices: defaults.devices,
            time_scale: time_scale_from_env().unwrap_or(CLI_TIME_SCALE),
        }
    }
}

/// Where the sandbox clouds come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SandboxChoice {
    /// The window: the simulator runs when there are only sandbox accounts (or none); at `external_url`
    /// (`OTA_CONSOLE_SIM_URL`) when that is set, else in-process.
    WhenNoRealAccounts {
        settings: SimSettings,
        external_url: Option<String>,
    },
    /// `otactl --sandbox`: an in-process simulator, always.
    InProcess(SimSettings),
    /// `otactl --sim-url URL`: a running `ota-sim`; jobs poll at its clock's pace unless
    /// `OTA_CONSOLE_TIME_SCALE` says otherwise.
    External { url: String },
    /// Real accounts only.
    Off,
}

impl SandboxChoice {
    /// The window's choice, from the environment.
    pub fn window_from_env() -> Self {
        Self::WhenNoRealAccounts {
            settings: SimSettings::window_from_env(),
            external_url: std::env::var("OTA_CONSOLE_SIM_URL")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|url| url.trim().trim_end_matches('/').to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The data folder; the app's default (or `OTA_CONSOLE_DATA_DIR`) when `None`.
    pub data_dir: Option<PathBuf>,
    pub launcher: Launcher,
    pub sandbox: SandboxChoice,
    /// `otactl --account NAME`.
    pub account: Option<String>,
    /// Team mode: a shared PostgreSQL instead of the data folder's SQLite file.
    pub database: Option<TeamDatabase>,
    /// Who the audit log names for what this process does (`otactl serve --name`); the OS user, or
    /// `OTA_CONSOLE_USER`, when `None`.
    pub actor: Option<String>,
}

/// The team's PostgreSQL: its URL (`postgres://user@host:5432/db`) and the password, kept apart from the
/// URL so the URL can be shown. With no password given, the keychain's entry for the URL is used.
#[derive(Clone)]
pub struct TeamDatabase {
    pub url: String,
    pub password: Option<ota_core::Secret>,
    /// Where it was named, for Settings (the window's choice, [`TeamDatabase::for_window`]).
    pub(crate) source: Option<crate::team::TeamDatabaseSource>,
    /// The window: when it cannot be opened, open the desk's own file and say why, rather than not start.
    pub(crate) fall_back_to_desk: bool,
}

impl std::fmt::Debug for TeamDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamDatabase")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TeamDatabase {
    /// `--database URL` / `OTA_CONSOLE_DATABASE_URL`: a `postgres://` URL selects team mode; empty means
    /// the desk's own SQLite file.
    pub fn from_url(url: Option<&str>) -> Option<Self> {
        url.map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|url| Self {
                url: url.to_string(),
                password: None,
                source: None,
                fall_back_to_desk: false,
            })
    }

    /// The keychain entry that holds this database's password (one per URL).
    pub fn keychain_key(&self) -> String {
        format!("team-database/{}", self.url)
    }

    fn open(
        &self,
        data_dir: &std::path::Path,
        secrets: &dyn SecretStore,
    ) -> Result<Store, ApiError> {
        let password = match &self.password {
            Some(secret) => Some(secret.clone()),
            None => secrets
                .get(&self.keychain_key(), ota_core::SecretSlot::Credential)
                .unwrap_or_else(|err| {
                    // No keychain on this machine: the URL (or trust/peer authentication) may do.
                    tracing::debug!(error = %err, "no team database password from the keychain");
                    None
                }),
        };
        let target =
            ota_core::db::PgTarget::parse(&self.url, password.as_ref().map(|p| p.expose()))?;
        Ok(Store::open_postgres(target, data_dir)?)
    }
}

/// Whether the sandbox runs, and where, for the window's header.
#[derive(Debug, Clone, Default)]
pub struct SandboxStatus {
    pub active: bool,
    pub sim_url: Option<String>,
}

impl App {
    /// Opens the store in the data folder and the engine over it. The sandbox is attached by
    /// [`App::connect_sandbox`] (the window does that in the background, after its window shows).
    pub async fn open(options: OpenOptions) -> Result<Arc<App>, ApiError> {
        Self::open_with(
            options,
            Arc::new(Keychain::default()),
            Arc::new(ota_clouds::CloudConnector::default()),
        )
        .await
    }

    /// [`App::open`] on a server: secrets from the Secret Service when it has them, else from the
    /// operator's credentials folder (`--credentials-dir`, systemd's `$CREDENTIALS_DIRECTORY`).
    pub async fn open_with_credentials_folder(
        options: OpenOptions,
        folder: &std::path::Path,
    ) -> Result<Arc<App>, ApiError> {
        let secrets = ota_core::credentials_dir::KeychainThenFolder {
            keychain: Keychain::default(),
            folder: ota_core::credentials_dir::CredentialsDir::new(folder)?,
        };
        Self::open_with(
            options,
            Arc::new(secrets),
            Arc::new(ota_clouds::CloudConnector::default()),
        )
        .await
    }

    /// [`App::open`] over another keychain and other clouds (tests use in-memory ones).
    pub async fn open_with(
        options: OpenOptions,
        secrets: Arc<dyn SecretStore>,
        connector: Arc<dyn Connector>,
    ) -> Result<Arc<App>, ApiError> {
        let data_dir = match options.data_dir {
            Some(dir) => dir,
            None => ota_core::paths::data_dir()?,
        };
        let mut warnings = Vec::new();
        let (store, team) = match &options.database {
            Some(database) => match database.open(&data_dir, secrets.as_ref()) {
                Ok(store) => (
                    store,
                    TeamStart {
                        source: database.source,
                        fallback: None,
                    },
                ),
                Err(err) if database.fall_back_to_desk => {
                    tracing::error!(error = %err.display_line(), "cannot open the team database; using this desk's own file");
                    let notice = crate::team::fallback_notice(&err);
                    warnings.push(notice.message.clone());
                    (
                        Store::open_in(&data_dir)?,
                        TeamStart {
                            source: database.source,
                            fallback: Some(notice),
                        },
                    )
                }
                Err(err) => return Err(err),
            },
            None => (Store::open_in(&data_dir)?, TeamStart::default()),
        };
        let (time_scale, warning) = time_scale_for(&options.sandbox).await;
        warnings.extend(warning);
        let mut console = Console::new(store, secrets, connector)
            .with_job_options(JobOptions::scaled(time_scale));
        if let Some(actor) = options.actor {
            console = console.with_actor(actor);
        }
        let console = Arc::new(console);
        // Team mode: what other desks and runners change shows in the window too. A CLI command shows
        // nothing live, so it opens no listening connection.
        if options.launcher == Launcher::Window {
            console.forward_remote_changes();
        }
        let sandbox_only = options.launcher == Launcher::Cli
            && matches!(
                options.sandbox,
                SandboxChoice::InProcess(_) | SandboxChoice::External { .. }
            );
        let (ready, _) = tokio::sync::watch::channel(false);
        Ok(Arc::new(App {
            console,
            data_dir,
            launcher: options.launcher,
            scope: Scope {
                account: options.account,
                sandbox_only,
            },
            sandbox_choice: options.sandbox,
            sandbox: Mutex::default(),
            sim: Mutex::default(),
            ready,
            downloads: Default::default(),
            start_warnings: Mutex::new(warnings),
            team,
        }))
    }

    /// Starts (or reaches) the simulator and attaches its accounts. Answers what the user should be told
    /// (the cached sandbox fleet is used when the simulator cannot be reached); never fails start-up.
    pub async fn connect_sandbox(&self) -> Vec<String> {
        let mut notices: Vec<String> = self
            .start_warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        let url = match &self.sandbox_choice {
            SandboxChoice::Off => None,
            SandboxChoice::External { url } => Some(url.clone()),
            SandboxChoice::InProcess(settings) => self.spawn_sim(settings, &mut notices).await,
            SandboxChoice::WhenNoRealAccounts {
                settings,
                external_url,
            } => match self.console.wants_sandbox() {
                Ok(true) => match external_url {
                    Some(url) => Some(url.clone()),
                    None => self.spawn_sim(settings, &mut notices).await,
                },
                Ok(false) => None,
                Err(err) => {
                    notices.push(format!("cannot read the accounts: {}", err.display_line()));
                    None
                }
            },
        };
        if let Some(url) = url {
            if let Ok(mut status) = self.sandbox.lock() {
                *status = SandboxStatus {
                    active: true,
                    sim_url: Some(url.clone()),
                };
            }
            match ota_clouds::sandbox::attach(&self.console, &url).await {
                Ok(accounts) => tracing::info!(url, accounts = accounts.len(), "sandbox ready"),
                Err(err) => notices.push(format!(
                    "the simulator at {url} is unreachable ({}); using the cached sandbox data",
                    err.display_line()
                )),
            }
        }
        // send_replace: the value must change even when nobody waits yet.
        self.ready.send_replace(true);
        notices
    }

    async fn spawn_sim(&self, settings: &SimSettings, notices: &mut Vec<String>) -> Option<String> {
        let config = ota_sim::SimConfig {
            devices: settings.devices,
            seed: settings.seed,
            time_scale: settings.time_scale,
            ..Default::default()
        };
        let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        match ota_sim::spawn(config, listen).await {
            Ok(handle) => {
                let url = handle.url();
                if let Ok(mut sim) = self.sim.lock() {
                    *sim = Some(handle);
                }
                Some(url)
            }
            Err(err) => {
                notices.push(format!("the sandbox simulator could not start: {err}"));
                None
            }
        }
    }

    /// The window's background work for as long as it runs: webhook deliveries, the sandbox, then
    /// resuming the jobs and campaigns that were running when it last stopped, then a fleet refresh every
    /// minute.
    pub async fn run_in_background(self: Arc<Self>) {
        let deliveries = self.clone();
        tokio::spawn(async move {
            if let Err(err) = deliveries
                .run_webhook_deliveries(std::future::pending())
                .await
            {
                tracing::error!(error = %err.display_line(), "webhook deliveries could not start");
            }
        });
        for notice in self.connect_sandbox().await {
            tracing::warn!("{notice}");
        }
        match ota_core::jobs::resume_active_jobs(&self.console) {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "resumed watching unfinished jobs"),
            Err(err) => tracing::error!(error = %err.display_line(), "could not resume jobs"),
        }
        // Team mode: the team's `otactl serve` runners run the campaigns; a desk shows them.
        if self.is_team_mode() {
            tracing::info!(
                "team mode: running campaigns are left to the team's runners (otactl serve)"
            );
        } else {
            match ota_core::campaign::resume_running(&self.console) {
                Ok(0) => {}
                Ok(n) => tracing::info!(campaigns = n, "resumed running campaigns"),
                Err(err) => {
                    tracing::error!(error = %err.display_line(), "could not resume campaigns")
                }
            }
        }
        // With a cached fleet, the window's first refresh comes from the page once that list has painted
        // (`useAutoRefresh`): listing the clouds here at once would compete with the first page for the
        // CPU and the store (warm start with 100 000 devices cached: ~1 s → ~0.5 s, bench/RESULTS.md).
        // With nothing cached there is nothing to paint, and the import starts at once.
        let every = Duration::from_secs(60);
        let first = if self.has_cached_fleet() {
            tokio::time::Instant::now() + every
        } else {
            tokio::time::Instant::now()
        };
        let mut tick = tokio::time::interval_at(first, every);
        loop {
            tick.tick().await;
            if let Err(err) = self.console.refresh_fleet().await {
                tracing::warn!(error = %err.display_line(), "background refresh failed");
            }
        }
    }

    /// Whether the cache holds any device to show (an unreadable store counts as empty: refresh).
    fn has_cached_fleet(&self) -> bool {
        let first = ota_core::DeviceQuery {
            limit: 1,
            ..Default::default()
        };
        self.console
            .store()
            .query_devices(&first)
            .is_ok_and(|page| page.total > 0)
    }

    /// Waits (bounded) until start-up has attached the sandbox accounts, so a first refresh does not race
    /// them.
    pub async fn wait_ready(&self) {
        let mut ready = self.ready.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(15), ready.wait_for(|r| *r)).await;
    }

    pub fn sandbox_status(&self) -> SandboxStatus {
        self.sandbox.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The pace jobs poll at: `OTA_CONSOLE_TIME_SCALE` wins; a `--sim-url` simulator is asked for its clock;
/// otherwise the sandbox's own setting, or real time.
async fn time_scale_for(choice: &SandboxChoice) -> (f64, Option<String>) {
    let explicit = time_scale_from_env();
    match choice {
        SandboxChoice::WhenNoRealAccounts { settings, .. } | SandboxChoice::InProcess(settings) => {
            (settings.time_scale, None)
        }
        SandboxChoice::Off => (explicit.unwrap_or(1.0), None),
        SandboxChoice::External { url } => {
            if let Some(scale) = explicit {
                return (scale, None);
            }
            match ota_clouds::sandbox::sim_time_scale(url).await {
                Ok(scale) => (scale, None),
                // Unreachable is said once, where the sandbox accounts are attached.
                Err(err) if err.code == ErrorKind::Offline => (1.0, None),
                Err(err) => (
                    1.0,
                    Some(format!(
                        "could not read the simulator's time scale at {url} ({}); polling in real time",
                        err.display_line()
                    )),
                ),
            }
        }
    }
}
