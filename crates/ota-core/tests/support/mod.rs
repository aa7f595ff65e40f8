//! An in-memory cloud for the engine's own tests: it implements the core's traits (`Connector`,
//! `CloudSession`, `VicohomeOta`, `FleetUpdates`) with scripted per-device behaviour, and counts what the
//! engine asked of it. No HTTP, no simulator, no vendor client.
//!
//! A device's script says what its cloud answers:
//! - [`Script::succeeds_after`]: a start is accepted and the device reports done on the n-th status read;
//! - [`Script::fails_after`]: accepted, then the n-th read reports a failure with the given error;
//! - [`Script::refuses`]: the start itself is refused with the given error;
//! - [`Script::offline`]: every call about the device answers "offline";
//! - [`Script::on_target`]: the device already runs the target version (updated elsewhere);
//! - [`Script::already_updating`]: an update started elsewhere is running and ends after n reads;
//! - [`Script::steps`]: the exact Vicohome statuses each read returns after a start;
//! - [`Script::then`]: the answer to the next start (retries);
//! - [`Script::stuck`]: accepted, then "downloading" at half forever;
//! - [`Script::keeps_old_version`]: reports the update done, but the device's details keep [`OLD`].
//!
//! Each status read moves a running update one step on (unless the cloud is frozen with
//! [`FakeCloud::freeze`]); the last step repeats.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ota_core::cloud::{
    CloudSession, Connector, Credentials, FleetUpdates, PublishReceipt, PublishRequest,
    RemoteUpdate, SessionCache, UpdateTarget, VicohomeOta, VicohomeOtaStatus,
};
use ota_core::jobs::JobOptions;
use ota_core::progress::vicohome_sample;
use ota_core::{
    Account, ApiError, Cloud, Console, CoreError, Device, ErrorKind, NewAccount, Secret,
    SecretSlot, SecretStore,
};

/// The firmware version every fake device is offered.
pub const TARGET: &str = "2.0.0";
/// The version fake devices run before an update.
pub const OLD: &str = "1.0.0";
/// Package size the fake reports (so 500 000 bytes is 45 %: 90 % of the bar is the download).
pub const PACKAGE_BYTES: u64 = 1_000_000;
/// Longest a test waits for something that should happen at once; reaching it means the engine hung.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// One status the cloud reports for a running update (Vicohome's `otaStatus` and byte count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub ota_status: i32,
    pub transferred: u64,
    /// The failure code reported alongside a failed status (Vicohome -10401 / -10402).
    pub error: Option<ApiError>,
}

impl Step {
    pub fn downloading(transferred: u64) -> Self {
        Self {
            ota_status: 1,
            transferred,
            error: None,
        }
    }

    pub fn installing() -> Self {
        Self {
            ota_status: 2,
            transferred: PACKAGE_BYTES,
            error: None,
        }
    }

    pub fn complete() -> Self {
        Self {
            ota_status: 3,
            transferred: PACKAGE_BYTES,
            error: None,
        }
    }

    /// otaStatus 4, the seed's "Error (failure)", with the code the cloud reported beside it.
    pub fn failed(error: ApiError) -> Self {
        Self {
            ota_status: 4,
            transferred: 0,
            error: Some(error),
        }
    }

    fn is_final(&self) -> bool {
        self.ota_status >= 3
    }

    fn failure(&self) -> ApiError {
        self.error.clone().unwrap_or_else(|| {
            ApiError::new(ErrorKind::Device, "The device could not take the update.")
        })
    }
}

/// How the cloud answers one start.
#[derive(Debug, Clone)]
enum Answer {
    Accept(Vec<Step>),
    Refuse(ApiError),
}

/// What a device's cloud answers, set up by a test.
#[derive(Debug, Clone)]
pub struct Script {
    /// An update already running when the test begins (started from the vendor's app, or before a crash).
    already: Option<Vec<Step>>,
    on_target: bool,
    offline: bool,
    /// A finished update leaves the device's reported version as it was.
    keeps_version: bool,
    /// Answers to successive starts; the last repeats.
    answers: Vec<Answer>,
}

/// `polls - 1` download steps, evenly spread, then `last`: the `polls`-th read reports `last`.
fn steps_ending(polls: u32, last: Step) -> Vec<Step> {
    let polls = polls.max(1);
    let mut steps: Vec<Step> = (1..polls)
        .map(|i| Step::downloading(PACKAGE_BYTES * u64::from(i) / u64::from(polls)))
        .collect();
    steps.push(last);
    steps
}

impl Script {
    fn answering(answer: Answer) -> Self {
        Self {
            already: None,
            on_target: false,
            offline: false,
            keeps_version: false,
            answers: vec![answer],
        }
    }

    pub fn succeeds_after(polls: u32) -> Self {
        Self::steps(steps_ending(polls, Step::complete()))
    }

    pub fn fails_after(polls: u32, error: ApiError) -> Self {
        Self::steps(steps_ending(polls, Step::failed(error)))
    }

    pub fn steps(steps: Vec<Step>) -> Self {
        Self::answering(Answer::Accept(steps))
    }

    pub fn refuses(error: ApiError) -> Self {
        Self::answering(Answer::Refuse(error))
    }

    pub fn offline() -> Self {
        Self {
            offline: true,
            ..Self::succeeds_after(1)
        }
    }

    pub fn on_target() -> Self {
        Self {
            on_target: true,
            ..Self::succeeds_after(1)
        }
    }

    pub fn already_updating(polls: u32) -> Self {
        Self {
            already: Some(steps_ending(polls, Step::complete())),
            ..Self::succeeds_after(1)
        }
    }

    /// Accepted, then in progress (half downloaded) on every read, forever.
    pub fn stuck() -> Self {
        Self::steps(vec![Step::downloading(PACKAGE_BYTES / 2)])
    }

    /// The cloud reports the update done after `polls` reads, but the device keeps running [`OLD`].
    pub fn keeps_old_version(polls: u32) -> Self {
        Self {
            keeps_version: true,
            ..Self::succeeds_after(polls)
        }
    }

    /// The next start is answered as `next`'s first start is.
    pub fn then(mut self, next: Script) -> Self {
        self.answers.extend(next.answers);
        self
    }
}

/// Something the engine did to the cloud, in the order the cloud saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A start request reached the cloud (whatever it answered).
    Start,
    /// A status read returned the end of an update for the first time: succeeded or not.
    Finished { succeeded: bool },
}

#[derive(Debug, Clone)]
pub struct Event {
    pub device: String,
    pub kind: EventKind,
    pub at: Instant,
}

struct Run {
    steps: Vec<Step>,
    next: usize,
    /// Whether the end of this run has been logged (it is logged once).
    end_logged: bool,
}

struct FakeDevice {
    /// What the device listing says (`online`); see [`FakeCloud::set_online`].
    listed_online: bool,
    model: String,
    firmware: String,
    script: Script,
    run: Option<Run>,
    starts: u32,
    status_reads: u32,
}

#[derive(Default)]
struct FakeState {
    devices: BTreeMap<String, FakeDevice>,
    events: Vec<Event>,
    requests: u64,
    connects: u64,
    frozen: bool,
}

/// The fake cloud: one fleet, shared by every session the connector hands out (like a real cloud, its
/// state outlives a console that is dropped and opened again).
pub struct FakeCloud {
    state: Mutex<FakeState>,
}

impl FakeCloud {
    /// A cloud whose devices (id, script) run version [`OLD`], model "CAM", and are offered [`TARGET`].
    pub fn new<'a>(devices: impl IntoIterator<Item = (&'a str, Script)>) -> Arc<Self> {
        let devices = devices
            .into_iter()
            .map(|(id, script)| {
                let run = script.already.clone().map(|steps| Run {
                    steps,
                    next: 0,
                    end_logged: false,
                });
                let device = FakeDevice {
                    listed_online: true,
                    model: "CAM".into(),
                    firmware: OLD.into(),
                    script,
                    run,
                    starts: 0,
                    status_reads: 0,
                };
                (id.to_string(), device)
            })
            .collect();
        Arc::new(Self {
            state: Mutex::new(FakeState {
                devices,
                ..FakeState::default()
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start requests that reached the cloud for `device`.
    pub fn starts(&self, device: &str) -> u32 {
        self.lock().devices.get(device).map_or(0, |d| d.starts)
    }

    /// Start requests per device, every device listed.
    pub fn starts_by_device(&self) -> BTreeMap<String, u32> {
        self.lock()
            .devices
            .iter()
            .map(|(id, d)| (id.clone(), d.starts))
            .collect()
    }

    pub fn total_starts(&self) -> u32 {
        self.lock().devices.values().map(|d| d.starts).sum()
    }

    pub fn status_reads(&self, device: &str) -> u32 {
        self.lock()
            .devices
            .get(device)
            .map_or(0, |d| d.status_reads)
    }

    /// Every call the engine made (listings, status reads, starts, firmware look-ups, publishes).
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// Sessions the connector built.
    pub fn connects(&self) -> u64 {
        self.lock().connects
    }

    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// The firmware the cloud says the device runs now.
    pub fn firmware(&self, device: &str) -> Option<String> {
        self.lock().devices.get(device).map(|d| d.firmware.clone())
    }

    /// The device goes back to [`OLD`] (a rollback after its update), as its details then report.
    pub fn roll_back(&self, device: &str) {
        if let Some(d) = self.lock().devices.get_mut(device) {
            d.firmware = OLD.into();
        }
    }

    /// The device listing reports the device online or offline from now on (the next fleet refresh).
    pub fn set_online(&self, device: &str, online: bool) {
        if let Some(d) = self.lock().devices.get_mut(device) {
            d.listed_online = online;
        }
    }

    /// While frozen, running updates do not move on (status reads repeat the current step).
    pub fn freeze(&self, frozen: bool) {
        self.lock().frozen = frozen;
    }

    fn offline_error(device: &str) -> ApiError {
        ApiError::new(ErrorKind::Offline, format!("{device} is offline."))
            .with_hint("Check that it is powered and connected.")
    }

    fn unknown_device(device: &str) -> ApiError {
        ApiError::not_found(format!("The cloud has no device {device}."))
    }

    /// Reads a device's status: a running update moves one step on. `None`: no update running.
    fn read(&self, device_id: &str) -> Result<Option<Step>, ApiError> {
        let mut guard = self.lock();
        // Reborrowed so the device and the event log can be borrowed apart.
        let state = &mut *guard;
        state.requests += 1;
        let frozen = state.frozen;
        let device = state
            .devices
            .get_mut(device_id)
            .ok_or_else(|| Self::unknown_device(device_id))?;
        device.status_reads += 1;
        if device.script.offline {
            return Err(Self::offline_error(device_id));
        }
        let Some(run) = device.run.as_mut() else {
            return Ok(None);
        };
        let step = run.steps[run.next].clone();
        if !frozen && run.next + 1 < run.steps.len() {
            run.next += 1;
        }
        let newly_ended = step.is_final() && !run.end_logged;
        if newly_ended {
            run.end_logged = true;
            if step.ota_status == 3 && !device.script.keeps_version {
                device.firmware = TARGET.into();
            }
            state.events.push(Event {
                device: device_id.to_string(),
                kind: EventKind::Finished {
                    succeeded: step.ota_status == 3,
                },
                at: Instant::now(),
            });
        }
        Ok(Some(step))
    }

    /// Receives a start: counted and logged whatever the answer.
    fn start(&self, device_id: &str) -> Result<(), ApiError> {
        let mut state = self.lock();
        state.requests += 1;
        state.events.push(Event {
            device: device_id.to_string(),
            kind: EventKind::Start,
            at: Instant::now(),
        });
        let device = state
            .devices
            .get_mut(device_id)
            .ok_or_else(|| Self::unknown_device(device_id))?;
        let answer_index = (device.starts as usize).min(device.script.answers.len() - 1);
        device.starts += 1;
        if device.script.offline {
            return Err(Self::offline_error(device_id));
        }
        match device.script.answers[answer_index].clone() {
            Answer::Refuse(err) => Err(err),
            Answer::Accept(steps) => {
                device.run = Some(Run {
                    steps,
                    next: 0,
                    end_logged: false,
                });
                Ok(())
            }
        }
    }

    /// Whether the device runs the target without an update in flight (its status when nothing runs).
    fn on_target(&self, device_id: &str) -> bool {
        self.lock()
            .devices
            .get(device_id)
            .is_some_and(|d| d.script.on_target || d.firmware == TARGET)
    }

    /// The version the device's details report: the target once it took it (or ran it already).
    fn reported_version(&self, device_id: &str) -> Result<String, ApiError> {
        let mut state = self.lock();
        state.requests += 1;
        let device = state
            .devices
            .get(device_id)
            .ok_or_else(|| Self::unknown_device(device_id))?;
        if device.script.offline {
            return Err(Self::offline_error(device_id));
        }
        Ok(if device.script.on_target {
            TARGET.to_string()
        } else {
            device.firmware.clone()
        })
    }

    fn vicohome_status(device_id: &str, step: Option<&Step>) -> VicohomeOtaStatus {
        match step {
            Some(step) => VicohomeOtaStatus {
                serial: device_id.to_string(),
                in_progress: (0..=2).contains(&step.ota_status),
                ota_status: step.ota_status,
                transferred: step.transferred,
                total: PACKAGE_BYTES,
                target_firmware: (step.ota_status == 3).then(|| TARGET.to_string()),
                error: (step.ota_status >= 4).then(|| step.failure()),
            },
            None => VicohomeOtaStatus {
                serial: device_id.to_string(),
                in_progress: false,
                ota_status: 0,
                transferred: 0,
                total: PACKAGE_BYTES,
                target_firmware: None,
                error: None,
            },
        }
    }
}

/// What the cloud says about a device's update, in the campaign's terms.
fn remote(step: &Step) -> RemoteUpdate {
    match step.ota_status {
        3 => RemoteUpdate::Succeeded,
        4 | 5 => RemoteUpdate::Failed(step.failure()),
        status => {
            let sample = vicohome_sample(status, step.transferred, PACKAGE_BYTES, 0);
            RemoteUpdate::Updating {
                percent: sample.percent,
                state: sample.phase.as_str().to_string(),
            }
        }
    }
}

/// One signed-in account of the fake cloud.
pub struct FakeSession {
    cloud: Arc<FakeCloud>,
    kind: Cloud,
}

#[async_trait]
impl CloudSession for FakeSession {
    async fn list_devices(&self) -> Result<Vec<Device>, ApiError> {
        let mut state = self.cloud.lock();
        state.requests += 1;
        Ok(state
            .devices
            .iter()
            .map(|(id, d)| Device {
                account_id: 0,
                cloud: self.kind,
                id: id.clone(),
                product_key: None,
                name: format!("Camera {id}"),
                model: d.model.clone(),
                manufacturer: None,
                transport: None,
                // A device updated elsewhere after the last refresh still shows its old version here.
                firmware: OLD.into(),
                newest_firmware: Some(TARGET.into()),
                online: d.listed_online,
                battery: None,
                signal: None,
                refreshed_at: 0,
                tags: Vec::new(),
            })
            .collect())
    }

    fn vicohome(&self) -> Option<&dyn VicohomeOta> {
        Some(self)
    }

    fn fleet_updates(&self) -> Option<&dyn FleetUpdates> {
        Some(self)
    }
}

#[async_trait]
impl VicohomeOta for FakeSession {
    async fn start_ota(&self, serial: &str) -> Result<VicohomeOtaStatus, ApiError> {
        self.cloud.start(serial)?;
        // Accepted: the camera has not begun downloading yet.
        Ok(FakeCloud::vicohome_status(
            serial,
            Some(&Step {
                ota_status: 0,
                transferred: 0,
                error: None,
            }),
        ))
    }

    async fn ota_status(&self, serial: &str) -> Result<VicohomeOtaStatus, ApiError> {
        let step = self.cloud.read(serial)?;
        Ok(FakeCloud::vicohome_status(serial, step.as_ref()))
    }

    async fn current_firmware(&self, serial: &str) -> Result<Option<String>, ApiError> {
        self.cloud.lock().requests += 1;
        Ok(self.cloud.firmware(serial))
    }
}

#[async_trait]
impl FleetUpdates for FakeSession {
    fn unsupported(&self, _target: &UpdateTarget, _transport: Option<&str>) -> Option<String> {
        None
    }

    async fn observe(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
        match self.cloud.read(&target.device_id)? {
            Some(step) => Ok(remote(&step)),
            None if self.cloud.on_target(&target.device_id) => Ok(RemoteUpdate::Succeeded),
            None => Ok(RemoteUpdate::Idle),
        }
    }

    async fn start(&self, target: &UpdateTarget) -> Result<RemoteUpdate, ApiError> {
        self.cloud.start(&target.device_id)?;
        Ok(RemoteUpdate::Updating {
            percent: 0,
            state: "starting".into(),
        })
    }

    async fn reported_version(&self, target: &UpdateTarget) -> Result<Option<String>, ApiError> {
        self.cloud.reported_version(&target.device_id).map(Some)
    }

    async fn publish(&self, package: &PublishRequest) -> Result<PublishReceipt, ApiError> {
        self.cloud.lock().requests += 1;
        Ok(PublishReceipt {
            detail: format!("offered {} to every camera", package.version),
        })
    }
}

/// Hands out sessions of one fake cloud, whatever the account.
pub struct FakeConnector {
    pub cloud: Arc<FakeCloud>,
}

impl Connector for FakeConnector {
    fn connect(
        &self,
        account: &Account,
        credentials: Credentials,
        _session: SessionCache,
    ) -> Result<Arc<dyn CloudSession>, ApiError> {
        self.cloud.lock().connects += 1;
        if credentials.secret.expose() != PASSWORD {
            return Err(ApiError::new(ErrorKind::Auth, "Wrong password."));
        }
        Ok(Arc::new(FakeSession {
            cloud: self.cloud.clone(),
            kind: account.cloud,
        }))
    }
}

/// The password of the test account (kept in [`MemorySecrets`]).
pub const PASSWORD: &str = "correct horse";

/// Secrets in memory: the tests need a secret store, not the OS keychain. Shared between the consoles of
/// one test, as the keychain outlives the app.
#[derive(Default)]
pub struct MemorySecrets {
    entries: Mutex<HashMap<(String, &'static str), Secret>>,
}

fn slot_key(slot: SecretSlot) -> &'static str {
    match slot {
        SecretSlot::Credential => "credential",
        SecretSlot::Session => "session",
    }
}

impl SecretStore for MemorySecrets {
    fn set(&self, account_name: &str, slot: SecretSlot, secret: &Secret) -> Result<(), CoreError> {
        self.entries
            .lock()
            .map_err(|_| CoreError::Keychain("poisoned".into()))?
            .insert((account_name.to_string(), slot_key(slot)), secret.clone());
        Ok(())
    }

    fn get(&self, account_name: &str, slot: SecretSlot) -> Result<Option<Secret>, CoreError> {
        Ok(self
            .entries
            .lock()
            .map_err(|_| CoreError::Keychain("poisoned".into()))?
            .get(&(account_name.to_string(), slot_key(slot)))
            .cloned())
    }

    fn delete(&self, account_name: &str, slot: SecretSlot) -> Result<(), CoreError> {
        self.entries
            .lock()
            .map_err(|_| CoreError::Keychain("poisoned".into()))?
            .remove(&(account_name.to_string(), slot_key(slot)));
        Ok(())
    }
}

/// Polling fast enough for tests: the engine's loops run in milliseconds, the deadline stays long (a job
/// that hits it is a failure the test reports, not a pass).
pub fn fast_options() -> JobOptions {
    JobOptions {
        poll_interval: Duration::from_millis(5),
        jitter: Duration::from_millis(1),
        max_backoff: Duration::from_millis(20),
        ..JobOptions::scaled(1_000.0)
    }
}

/// A console over the data folder `dir` (opened again after a "restart") and the fake cloud.
pub fn console_over(
    dir: &Path,
    cloud: &Arc<FakeCloud>,
    secrets: &Arc<MemorySecrets>,
    options: JobOptions,
) -> Arc<Console> {
    let store = ota_core::store::open_test_store(dir).expect("open the store");
    Arc::new(
        Console::new(
            store,
            secrets.clone(),
            Arc::new(FakeConnector {
                cloud: cloud.clone(),
            }),
        )
        .with_job_options(options),
    )
}

/// A console with one Vicohome account on the fake cloud, its fleet fetched into the cache.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub cloud: Arc<FakeCloud>,
    pub secrets: Arc<MemorySecrets>,
    pub console: Arc<Console>,
    pub account: Account,
}

impl Harness {
    pub async fn new(cloud: Arc<FakeCloud>) -> Self {
        Self::with_options(cloud, fast_options()).await
    }

    pub async fn with_options(cloud: Arc<FakeCloud>, options: JobOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets = Arc::new(MemorySecrets::default());
        let console = console_over(dir.path(), &cloud, &secrets, options);
        let added = console
            .add_account(
                &NewAccount {
                    name: "Field".into(),
                    cloud: Cloud::Vicohome,
                    base_url: "https://fake-cloud.invalid".into(),
                    region: None,
                    username: Some("tech@example.com".into()),
                    allow_http: false,
                },
                Secret::new(PASSWORD),
                false,
            )
            .await
            .expect("add the account");
        let freshness = console.refresh_fleet().await.expect("refresh the fleet");
        assert!(freshness.live, "the fake cloud listed the fleet");
        Self {
            dir,
            cloud,
            secrets,
            console,
            account: added.account,
        }
    }

    /// Another console over the same data folder, keychain and cloud, used by another person (`actor`):
    /// a colleague's `otactl` on the same desk.
    pub fn as_user(&self, actor: &str) -> Arc<Console> {
        let store = ota_core::store::open_test_store(self.dir.path()).expect("open the store");
        Arc::new(
            Console::new(
                store,
                self.secrets.clone(),
                Arc::new(FakeConnector {
                    cloud: self.cloud.clone(),
                }),
            )
            .with_job_options(fast_options())
            .with_actor(actor),
        )
    }

    /// Another console over the same data folder, keychain and cloud: the app started again.
    pub fn restarted(&self, options: JobOptions) -> Arc<Console> {
        console_over(self.dir.path(), &self.cloud, &self.secrets, options)
    }

    /// A small camera package of version [`TARGET`] (any model) added to the library; its id.
    pub fn target_firmware(&self) -> i64 {
        let file = self.dir.path().join("cam-2.0.0.bin");
        std::fs::write(&file, vec![7u8; 4096]).expect("write the package");
        ota_core::library::add_firmware(
            &self.console,
            &ota_core::library::NewFirmware {
                path: file.display().to_string(),
                version: TARGET.into(),
                cloud: Cloud::Vicohome,
                model: None,
                notes: None,
            },
        )
        .expect("add the firmware")
        .entry
        .id
    }
}

/// Waits until a job has ended (succeeded or failed) and returns it.
pub async fn wait_for_job_end(console: &Console, job_id: i64) -> ota_core::store::JobView {
    let give_up = Instant::now() + HANG_GUARD;
    loop {
        let job = console.store().job(job_id).expect("read the job");
        if !job.state.is_active() {
            return job;
        }
        assert!(
            Instant::now() < give_up,
            "job {job_id} never ended: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until `condition` holds, checking every few milliseconds.
pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let give_up = Instant::now() + HANG_GUARD;
    while !condition() {
        assert!(Instant::now() < give_up, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A campaign's runner, started in the background; [`ended`] awaits it.
pub type Running =
    tokio::task::JoinHandle<Result<ota_core::campaign::model::CampaignView, ApiError>>;

/// Starts the runner of campaign `id` in the background (the test watches it meanwhile).
pub fn run_in_background(console: &Arc<Console>, id: i64) -> Running {
    tokio::spawn(ota_core::campaign::runner::run(console.clone(), id))
}

/// The campaign as its runner ended it; [`HANG_GUARD`] turns a hung runner into a failure.
pub async fn ended(running: Running) -> ota_core::campaign::model::CampaignView {
    tokio::time::timeout(HANG_GUARD, running)
        .await
        .expect("the runner hung")
        .expect("runner task")
        .expect("runner")
}

/// Runs campaign `id` here until it ends or pauses.
pub async fn run_to_end(
    console: &Arc<Console>,
    id: i64,
) -> ota_core::campaign::model::CampaignView {
    ended(run_in_background(console, id)).await
}
