//! The console's engine: accounts and their credentials, the cached fleet and its refresh. The window and
//! `otactl` are thin adapters over this.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::cloud::{CloudSession, Connector, Credentials, SessionCache};
use crate::error::{ApiError, ErrorKind};
use crate::model::{Account, Cloud, DevicePage, DeviceQuery, FleetFreshness, NewAccount};
use crate::secrets::{Secret, SecretSlot, SecretStore};
use crate::store::{AuditRecord, Store};

/// What changed, so views can refetch (the window batches these into events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    Accounts,
    Devices,
    Jobs,
    Audit,
    Library,
    Campaigns,
}

pub struct Console {
    store: Store,
    secrets: Arc<dyn SecretStore>,
    connector: Arc<dyn Connector>,
    actor: String,
    sessions: Mutex<HashMap<i64, Arc<dyn CloudSession>>>,
    /// Sandbox credentials come from the simulator each run and are never persisted.
    sandbox_credentials: Mutex<HashMap<i64, Credentials>>,
    changes: broadcast::Sender<DataKind>,
    job_updates: broadcast::Sender<crate::store::JobView>,
    /// Jobs whose cloud status is being polled by this process, so one job never gets two pollers.
    watched_jobs: Mutex<std::collections::HashSet<i64>>,
    /// Campaigns this process runs, so one campaign never gets two runners here.
    running_campaigns: Mutex<std::collections::HashSet<i64>>,
    job_options: crate::jobs::JobOptions,
    /// Serializes whole-fleet refreshes; callers that waited behind one reuse its result.
    refresh_lock: tokio::sync::Mutex<()>,
    last_refresh_finished: std::sync::atomic::AtomicI64,
}

impl Console {
    pub fn new(store: Store, secrets: Arc<dyn SecretStore>, connector: Arc<dyn Connector>) -> Self {
        let (changes, _) = broadcast::channel(256);
        let (job_updates, _) = broadcast::channel(1024);
        Self {
            store,
            secrets,
            connector,
            actor: whoami(),
            sessions: Mutex::default(),
            sandbox_credentials: Mutex::default(),
            changes,
            job_updates,
            watched_jobs: Mutex::default(),
            running_campaigns: Mutex::default(),
            job_options: crate::jobs::JobOptions::default(),
            refresh_lock: tokio::sync::Mutex::new(()),
            last_refresh_finished: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// Overrides how jobs are polled (sandbox speed, tests).
    pub fn with_job_options(mut self, options: crate::jobs::JobOptions) -> Self {
        self.job_options = options;
        self
    }

    pub fn job_options(&self) -> &crate::jobs::JobOptions {
        &self.job_options
    }

    pub fn subscribe_jobs(&self) -> broadcast::Receiver<crate::store::JobView> {
        self.job_updates.subscribe()
    }

    pub(crate) fn publish_job(&self, job: &crate::store::JobView) {
        let _ = self.job_updates.send(job.clone());
        self.notify(DataKind::Jobs);
    }

    /// Marks a job as polled by this process; false when it already was.
    pub(crate) fn claim_job(&self, job_id: i64) -> bool {
        self.watched_jobs
            .lock()
            .map(|mut set| set.insert(job_id))
            .unwrap_or(false)
    }

    pub(crate) fn release_job(&self, job_id: i64) {
        if let Ok(mut set) = self.watched_jobs.lock() {
            set.remove(&job_id);
        }
    }

    /// Marks a campaign as run by this process; false when it already was.
    pub(crate) fn claim_campaign(&self, id: i64) -> bool {
        self.running_campaigns
            .lock()
            .map(|mut set| set.insert(id))
            .unwrap_or(false)
    }

    pub(crate) fn release_campaign(&self, id: i64) {
        if let Ok(mut set) = self.running_campaigns.lock() {
            set.remove(&id);
        }
    }

    /// The data folder (where the database and the firmware library live).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.store
            .path()
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Who the audit log names for actions taken here (the OS user).
    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DataKind> {
        self.changes.subscribe()
    }

    pub fn notify(&self, kind: DataKind) {
        // No subscriber is fine (the CLI has none).
        let _ = self.changes.send(kind);
    }

    pub fn audit(
        &self,
        action: &str,
        cloud: Option<Cloud>,
        target: Option<&str>,
        result: &Result<(), ApiError>,
    ) {
        let (result, detail) = match result {
            Ok(()) => ("ok", None),
            Err(e) => ("error", Some(e.display_line())),
        };
        let record = AuditRecord {
            actor: &self.actor,
            action,
            cloud,
            target,
            result,
            detail: detail.as_deref(),
        };
        if let Err(err) = self.store.audit(&record) {
            tracing::error!(error = %err, action, "could not write the audit log");
        }
        self.notify(DataKind::Audit);
    }

    pub fn accounts(&self) -> Result<Vec<Account>, ApiError> {
        Ok(self.store.accounts()?)
    }

    /// Adds a real account: the secret goes to the keychain, the rest to SQLite. If either fails nothing
    /// is left behind.
    pub fn add_account(&self, new: &NewAccount, secret: Secret) -> Result<Account, ApiError> {
        if secret.is_empty() {
            return Err(ApiError::validation(
                "The password, access key or token is empty.",
            ));
        }
        if new.name.trim().starts_with("Sandbox") {
            return Err(ApiError::validation(
                "Names starting with “Sandbox” are kept for the built-in simulator.",
            ));
        }
        crate::net::validate_base_url(&new.base_url)?;
        if self.store.account_by_name(new.name.trim())?.is_some() {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("An account named “{}” already exists.", new.name.trim()),
            ));
        }
        let name = new.name.trim();
        self.secrets
            .set(name, SecretSlot::Credential, &secret)
            .map_err(ApiError::from)?;
        let account = match self.store.add_account(new) {
            Ok(a) => a,
            Err(err) => {
                let _ = self.secrets.delete(name, SecretSlot::Credential);
                return Err(err.into());
            }
        };
        self.audit(
            "account.add",
            Some(account.cloud),
            Some(&account.name),
            &Ok(()),
        );
        self.notify(DataKind::Accounts);
        Ok(account)
    }

    /// Removes an account, its keychain entries and its cached data.
    pub fn remove_account(&self, name: &str) -> Result<Account, ApiError> {
        let account = self.store.remove_account(name)?;
        if !account.sandbox {
            for slot in [SecretSlot::Credential, SecretSlot::Session] {
                if let Err(err) = self.secrets.delete(&account.name, slot) {
                    tracing::warn!(account = %account.name, error = %err, "could not delete a keychain entry");
                }
            }
        }
        self.sessions_lock().remove(&account.id);
        self.audit(
            "account.remove",
            Some(account.cloud),
            Some(&account.name),
            &Ok(()),
        );
        self.notify(DataKind::Accounts);
        self.notify(DataKind::Devices);
        Ok(account)
    }

    /// Registers (or re-points) a sandbox account at the running simulator with its test credentials.
    pub fn attach_sandbox_account(
        &self,
        cloud: Cloud,
        name: &str,
        base_url: &str,
        credentials: Credentials,
    ) -> Result<Account, ApiError> {
        let account = self.store.upsert_sandbox_account(
            cloud,
            name,
            base_url,
            credentials.username.as_deref(),
        )?;
        if !account.sandbox {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("“{name}” is a real account; the sandbox cannot reuse its name."),
            ));
        }
        self.sessions_lock().remove(&account.id);
        if let Ok(mut creds) = self.sandbox_credentials.lock() {
            creds.insert(account.id, credentials);
        }
        Ok(account)
    }

    /// True when the user has only sandbox accounts (or none): the simulator should run.
    pub fn wants_sandbox(&self) -> Result<bool, ApiError> {
        let accounts = self.store.accounts()?;
        Ok(accounts.is_empty() || accounts.iter().any(|a| a.sandbox))
    }

    fn sessions_lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<dyn CloudSession>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn credentials(&self, account: &Account) -> Result<Credentials, ApiError> {
        if account.sandbox {
            return self
                .sandbox_credentials
                .lock()
                .ok()
                .and_then(|c| c.get(&account.id).cloned())
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorKind::Offline,
                        "The sandbox simulator is not reachable.",
                    )
                    .with_hint("Showing the cached fleet; restart OTA Console to start the simulator again.")
                });
        }
        let secret = self
            .secrets
            .get(&account.name, SecretSlot::Credential)
            .map_err(ApiError::from)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Auth,
                    format!("No credential for “{}” in the keychain.", account.name),
                )
                .with_hint("Open Settings, remove the account and add it again.")
            })?;
        Ok(Credentials {
            username: account.username.clone(),
            secret,
        })
    }

    /// The signed-in session of an account, created on first use.
    pub fn session(&self, account: &Account) -> Result<Arc<dyn CloudSession>, ApiError> {
        if let Some(session) = self.sessions_lock().get(&account.id) {
            return Ok(session.clone());
        }
        let credentials = self.credentials(account)?;
        let cache = if account.sandbox {
            SessionCache::in_memory()
        } else {
            SessionCache::keychain(self.secrets.clone(), &account.name)
        };
        let session = self.connector.connect(account, credentials, cache)?;
        self.sessions_lock().insert(account.id, session.clone());
        Ok(session)
    }

    /// Fetches every account's fleet concurrently and replaces the cache per account. An account that
    /// fails keeps its cached devices; the failure shows in the freshness report.
    ///
    /// Concurrent callers (the window's button, the background timer) share one round of requests: whoever
    /// waited behind a refresh that finished meanwhile gets its result instead of asking the clouds again.
    pub async fn refresh_fleet(&self) -> Result<FleetFreshness, ApiError> {
        use std::sync::atomic::Ordering;
        let asked_at = crate::model::now_ms();
        let _only_one = self.refresh_lock.lock().await;
        if self.last_refresh_finished.load(Ordering::SeqCst) >= asked_at {
            return self.freshness();
        }
        let accounts = self.store.accounts()?;
        let result = self.refresh_accounts(&accounts).await;
        self.last_refresh_finished
            .store(crate::model::now_ms(), Ordering::SeqCst);
        result
    }

    /// Like [`Console::refresh_fleet`], for the given accounts only.
    pub async fn refresh_accounts(&self, accounts: &[Account]) -> Result<FleetFreshness, ApiError> {
        let fetches = accounts.iter().map(|account| async move {
            let result = match self.session(account) {
                Ok(session) => session.list_devices().await,
                Err(e) => Err(e),
            };
            // Hand-added devices join what the cloud lists (the cloud's own row wins for the same id).
            let result = result.and_then(|mut listed| {
                let manual = self.store.manual_devices(account.id, account.cloud)?;
                let known: std::collections::HashSet<String> =
                    listed.iter().map(|d| d.id.clone()).collect();
                listed.extend(manual.into_iter().filter(|d| !known.contains(&d.id)));
                Ok(listed)
            });
            (account, result)
        });
        let results = futures::future::join_all(fetches).await;
        for (account, result) in results {
            match result {
                Ok(mut devices) => {
                    for d in &mut devices {
                        d.account_id = account.id;
                    }
                    self.store.replace_fleet(account.id, &devices)?;
                }
                Err(err) => {
                    tracing::warn!(account = %account.name, error = %err.display_line(), "fleet refresh failed");
                    self.store.record_fleet_failure(account.id, &err)?;
                }
            }
        }
        self.notify(DataKind::Devices);
        Ok(self.store.fleet_freshness()?)
    }

    /// Adds devices by id (OneNET has no listing; other clouds list their own devices).
    pub fn add_manual_devices(
        &self,
        account_id: i64,
        devices: &[crate::store::ManualDevice],
    ) -> Result<usize, ApiError> {
        let account = self.store.account(account_id)?;
        if account.cloud != Cloud::Onenet {
            return Err(ApiError::validation(format!(
                "{} lists its own devices; adding devices by id is for OneNET accounts.",
                account.cloud.label()
            )));
        }
        let count = self
            .store
            .add_manual_devices(account.id, account.cloud, devices)?;
        let result = Ok(());
        self.audit(
            "devices.import",
            Some(account.cloud),
            Some(&format!("{} ({count} devices)", account.name)),
            &result,
        );
        self.notify(DataKind::Devices);
        Ok(count)
    }

    pub fn devices(&self, query: &DeviceQuery) -> Result<DevicePage, ApiError> {
        Ok(self.store.query_devices(query)?)
    }

    pub fn freshness(&self) -> Result<FleetFreshness, ApiError> {
        Ok(self.store.fleet_freshness()?)
    }
}

fn whoami() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "local user".to_string())
}
