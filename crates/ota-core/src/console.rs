//! The console's engine: accounts and their credentials, the cached fleet and its refresh. The window and
//! `otactl` are thin adapters over this.
//!
//! Over 600 lines: accounts, their credentials and the per-account cloud sessions are one lifecycle (the
//! row, the keychain entry and the cached session change together); the refresh is the part to move out next.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::cloud::{CloudSession, Connector, Credentials, SessionCache};
use crate::error::{ApiError, ErrorKind};
use crate::model::{Account, Cloud, Device, DevicePage, DeviceQuery, FleetFreshness, NewAccount};
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

impl DataKind {
    /// What a change to `table` (a team database's change notice) may alter on screen; every kind for
    /// [`crate::store::RECONNECTED`].
    pub fn of_table(table: &str) -> &'static [DataKind] {
        match table {
            "accounts" => &[DataKind::Accounts, DataKind::Devices],
            "devices" | "device_tags" | "cohorts" => &[DataKind::Devices],
            "ota_jobs" => &[DataKind::Jobs],
            "audit_log" | "webhook_deliveries" => &[DataKind::Audit],
            "firmware" => &[DataKind::Library],
            "campaigns" | "campaign_devices" | "campaign_leases" => &[DataKind::Campaigns],
            _ => &[
                DataKind::Accounts,
                DataKind::Devices,
                DataKind::Jobs,
                DataKind::Audit,
                DataKind::Library,
                DataKind::Campaigns,
            ],
        }
    }
}

/// An account just added, with what signing in to its cloud showed (`None` when not verified).
#[derive(Debug, Clone)]
pub struct AddedAccount {
    pub account: Account,
    pub verification: Option<String>,
}

pub struct Console {
    store: Store,
    /// This database's id: keychain entries are filed under it (see `secrets::account_key`).
    instance_id: String,
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
        let instance_id = store.instance_id().unwrap_or_else(|err| {
            // Migrations make the id, so this is a broken database; the path still keeps folders apart.
            tracing::error!(error = %err, "this database has no id; keying secrets by its path");
            store.location()
        });
        Self {
            store,
            instance_id,
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

    /// Acts as `actor` (the user the audit log names and approvals compare) instead of the OS user.
    pub fn with_actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = actor.into();
        self
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
        self.store.data_dir().to_path_buf()
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

    /// Team mode: passes on what other desks and runners change, as this process's own notices, until
    /// the console is dropped. Needs a tokio runtime; does nothing for a desk's own file.
    pub fn forward_remote_changes(self: &Arc<Self>) {
        let Some(mut remote) = self.store.remote_changes() else {
            return;
        };
        let console = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some(table) = remote.recv().await {
                let Some(console) = console.upgrade() else {
                    break;
                };
                for kind in DataKind::of_table(&table) {
                    console.notify(*kind);
                }
            }
        });
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

    /// Adds a real account: the secret goes to the keychain, the rest to SQLite. With `verify` it first
    /// signs in with what was typed (a fresh session, nothing kept), so a wrong password fails here with the
    /// cloud's answer and nothing is stored. If storing either half fails, nothing is left behind.
    pub async fn add_account(
        &self,
        new: &NewAccount,
        secret: Secret,
        verify: bool,
    ) -> Result<AddedAccount, ApiError> {
        if secret.is_empty() {
            return Err(ApiError::validation(
                "The password, access key or token is empty.",
            ));
        }
        let name = new.name.trim();
        if name.is_empty() {
            return Err(ApiError::validation("An account needs a name."));
        }
        if name.starts_with("Sandbox") {
            return Err(ApiError::validation(
                "Names starting with “Sandbox” are kept for the built-in simulator.",
            ));
        }
        crate::net::validate_account_url(new.cloud, &new.base_url, new.allow_http)?;
        if self.store.account_by_name(name)?.is_some() {
            return Err(ApiError::new(
                ErrorKind::Conflict,
                format!("An account named “{name}” already exists."),
            )
            .with_hint("Pick another name, or remove the existing account first."));
        }
        let verification = if verify {
            Some(self.verify_new_account(new, &secret).await?)
        } else {
            None
        };
        // The row first, then the secret: a concurrent add of the same name loses on the row (unique name)
        // before it could overwrite or delete the winner's keychain entry.
        let account = self.store.add_account(new)?;
        if let Err(err) =
            self.secrets
                .set(&self.secret_key(&account), SecretSlot::Credential, &secret)
        {
            if let Err(undo) = self.store.remove_account(&account.name) {
                tracing::error!(account = %account.name, error = %undo, "could not undo an account whose secret was not stored");
            }
            return Err(ApiError::from(err));
        }
        self.audit(
            "account.add",
            Some(account.cloud),
            Some(&account.name),
            &Ok(()),
        );
        self.notify(DataKind::Accounts);
        Ok(AddedAccount {
            account,
            verification,
        })
    }

    /// Signs in to the cloud with an account that is not stored yet, through a session that keeps nothing.
    async fn verify_new_account(
        &self,
        new: &NewAccount,
        secret: &Secret,
    ) -> Result<String, ApiError> {
        let probe = Account {
            id: 0,
            name: new.name.trim().to_string(),
            cloud: new.cloud,
            base_url: new.base_url.trim().to_string(),
            region: new.region.clone(),
            username: new.username.clone(),
            sandbox: false,
            created_at: crate::model::now_ms(),
            allow_http: new.allow_http,
        };
        let credentials = Credentials {
            username: new.username.clone(),
            secret: secret.clone(),
        };
        let session = self
            .connector
            .connect(&probe, credentials, SessionCache::in_memory())?;
        session.verify().await.map_err(|err| {
            let hint = match err.code {
                ErrorKind::Auth => format!(
                    "Check the {} and try again; nothing was stored.",
                    match new.cloud {
                        Cloud::Onenet => "product id and access key",
                        _ => "e-mail and password",
                    }
                ),
                _ => err.hint.clone().map_or_else(
                    || "Nothing was stored. To add the account without signing in (offline set-up), use `otactl accounts add --no-verify`.".to_string(),
                    |h| format!("{h} Nothing was stored; `otactl accounts add --no-verify` adds it without signing in."),
                ),
            };
            let mut err = err;
            if err.code != ErrorKind::Auth {
                // An auth refusal already says who refused what; anything else needs saying what was tried.
                err.message = format!(
                    "The account could not be checked with {}: {}",
                    new.cloud.label(),
                    err.message
                );
            }
            err.with_hint(hint)
        })
    }

    /// Removes an account, its keychain entries and its cached data.
    pub fn remove_account(&self, name: &str) -> Result<Account, ApiError> {
        let account = self.store.remove_account(name)?;
        if !account.sandbox {
            for key in [self.secret_key(&account), account.name.clone()] {
                for slot in [SecretSlot::Credential, SecretSlot::Session] {
                    if let Err(err) = self.secrets.delete(&key, slot) {
                        tracing::warn!(account = %account.name, error = %err, "could not delete a keychain entry");
                    }
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
        let secret = self.stored_credential(account)?.ok_or_else(|| {
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

    /// This database's id, under which its keychain entries are filed (`secrets::account_key`,
    /// `secrets::webhook_key`).
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// The keychain (or the secret store tests give it).
    pub fn secrets(&self) -> &Arc<dyn SecretStore> {
        &self.secrets
    }

    /// Where an account's secrets are filed in the keychain.
    pub fn secret_key(&self, account: &Account) -> String {
        crate::secrets::account_key(&self.instance_id, account.id)
    }

    /// The account's credential. Entries written before keys were namespaced (filed under the account's
    /// name) are moved to the new key on first use; the old session token is dropped, not moved, since it
    /// may belong to a same-named account of another data folder.
    fn stored_credential(&self, account: &Account) -> Result<Option<Secret>, ApiError> {
        let key = self.secret_key(account);
        if let Some(secret) = self.secrets.get(&key, SecretSlot::Credential)? {
            return Ok(Some(secret));
        }
        let Some(legacy) = self.secrets.get(&account.name, SecretSlot::Credential)? else {
            return Ok(None);
        };
        self.secrets.set(&key, SecretSlot::Credential, &legacy)?;
        for slot in [SecretSlot::Credential, SecretSlot::Session] {
            if let Err(err) = self.secrets.delete(&account.name, slot) {
                tracing::warn!(account = %account.name, error = %err, "could not delete an old keychain entry");
            }
        }
        tracing::info!(account = %account.name, "moved the account's keychain entry to its namespaced key");
        Ok(Some(legacy))
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
            SessionCache::keychain(self.secrets.clone(), &self.secret_key(account))
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
    ///
    /// Every account's listing runs as its own task, and each account's fleet is written (one
    /// transaction, on a blocking thread) as soon as its listing is in, while the other listings go on:
    /// a large import costs about the longest listing plus the last write, not the sum of them all.
    pub async fn refresh_accounts(&self, accounts: &[Account]) -> Result<FleetFreshness, ApiError> {
        let mut listings = tokio::task::JoinSet::new();
        let mut failed = Vec::new();
        for account in accounts {
            match self.session(account) {
                Ok(session) => {
                    let account = account.clone();
                    listings.spawn(async move {
                        let listed = session.list_devices().await;
                        (account, listed)
                    });
                }
                Err(err) => failed.push((account.clone(), err)),
            }
        }
        for (account, err) in failed {
            self.record_refresh_failure(&account, &err)?;
        }
        let mut written = 0;
        while let Some(joined) = listings.join_next().await {
            let (account, listed) = joined.map_err(|err| {
                ApiError::internal(format!("A device listing stopped unexpectedly: {err}"))
            })?;
            match listed.and_then(|listed| self.with_manual_devices(&account, listed)) {
                Ok(devices) => {
                    written += devices.len();
                    self.write_fleet(account.id, devices).await?;
                }
                Err(err) => self.record_refresh_failure(&account, &err)?,
            }
        }
        self.notify(DataKind::Devices);
        if written >= LARGE_REFRESH {
            release_freed_heap();
        }
        Ok(self.store.fleet_freshness()?)
    }

    /// What the cloud listed, plus the account's hand-added devices (the cloud's own row wins for the
    /// same id), each marked as the account's.
    fn with_manual_devices(
        &self,
        account: &Account,
        mut listed: Vec<Device>,
    ) -> Result<Vec<Device>, ApiError> {
        let manual = self.store.manual_devices(account.id, account.cloud)?;
        let known: std::collections::HashSet<&str> = listed.iter().map(|d| d.id.as_str()).collect();
        let extra: Vec<_> = manual
            .into_iter()
            .filter(|d| !known.contains(d.id.as_str()))
            .collect();
        listed.extend(extra);
        for device in &mut listed {
            device.account_id = account.id;
        }
        Ok(listed)
    }

    /// Replaces one account's cached fleet off the async threads (a large fleet takes a while to write),
    /// so the other accounts' listings keep going meanwhile.
    async fn write_fleet(&self, account_id: i64, devices: Vec<Device>) -> Result<(), ApiError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.replace_fleet(account_id, &devices))
            .await
            .map_err(|err| {
                ApiError::internal(format!(
                    "Writing the device cache stopped unexpectedly: {err}"
                ))
            })??;
        Ok(())
    }

    fn record_refresh_failure(&self, account: &Account, err: &ApiError) -> Result<(), ApiError> {
        tracing::warn!(account = %account.name, error = %err.display_line(), "fleet refresh failed");
        self.store.record_fleet_failure(account.id, err)?;
        Ok(())
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

/// From this many devices written, a refresh hands the heap it freed back to the system.
const LARGE_REFRESH: usize = 10_000;

/// A large refresh decodes megabytes of JSON on several threads; glibc keeps what they freed in its
/// per-thread arenas (measured: ~80 MiB after 100 000 devices, bench/RESULTS.md), which a window left
/// open would hold for nothing. Elsewhere the allocator's own policy stands.
fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system; it has no preconditions and
    // touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Overrides the OS user as the acting user (the audit log, campaign approvals): for tests and
/// scripted set-ups that need "another user" on one desk.
pub const USER_ENV: &str = "OTA_CONSOLE_USER";

/// The acting user: `OTA_CONSOLE_USER` when set, else the OS user.
fn whoami() -> String {
    std::env::var(USER_ENV)
        .ok()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .ok_or(())
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "local user".to_string())
}
