//! Scaffolding several test files share: an in-memory secret store, a simulator on loopback, a Console
//! holding that simulator's sandbox accounts, the simulator's admin calls, and the OneNET download
//! helpers (`common::onenet`).

#![allow(dead_code)]

pub mod onenet;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use ota_clouds::{CloudConnector, RetryPolicy, VicohomeOptions};
use ota_core::error::CoreError;
use ota_core::jobs::JobOptions;
use ota_core::secrets::{SecretSlot, SecretStore};
use ota_core::store::JobView;
use ota_core::{Account, ApiError, Cloud, Console, ErrorKind, Keychain, Secret, Store};
use ota_sim::{SimConfig, SimHandle};
use serde_json::{json, Value};

/// Secrets kept in memory, in place of the OS keychain: these tests are about the clients, not the
/// keychain.
#[derive(Default)]
pub struct MemorySecrets(Mutex<HashMap<String, Secret>>);

impl SecretStore for MemorySecrets {
    fn set(&self, key: &str, slot: SecretSlot, secret: &Secret) -> Result<(), CoreError> {
        self.0
            .lock()
            .unwrap()
            .insert(format!("{key}{slot:?}"), secret.clone());
        Ok(())
    }

    fn get(&self, key: &str, slot: SecretSlot) -> Result<Option<Secret>, CoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .get(&format!("{key}{slot:?}"))
            .cloned())
    }

    fn delete(&self, key: &str, slot: SecretSlot) -> Result<(), CoreError> {
        self.0.lock().unwrap().remove(&format!("{key}{slot:?}"));
        Ok(())
    }
}

/// The firmware version the Quectel plan tests upgrade to.
pub const TARGET: &str = "9.9.9";

/// Retries a few milliseconds apart, so that tests of retried calls stay quick.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
    }
}

/// The connector the app uses, with quick retries.
pub fn connector() -> CloudConnector {
    CloudConnector::default()
        .with_retry(fast_retry())
        .with_vicohome_options(VicohomeOptions {
            retry: fast_retry(),
            ..VicohomeOptions::default()
        })
}

/// The simulator with `devices` devices made from `seed`, its clock `time_scale` times as fast as real
/// time (1.0: real time), on a free loopback port.
pub async fn sim(devices: usize, seed: u64, time_scale: f64) -> SimHandle {
    let config = SimConfig {
        devices,
        seed,
        time_scale,
        ..SimConfig::default()
    };
    spawn_sim(config).await
}

/// The simulator's first sandbox account on `cloud`.
pub async fn sandbox_account(sim: &SimHandle, cloud: Cloud) -> ota_clouds::SandboxAccount {
    ota_clouds::sandbox_accounts(&sim.url())
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.cloud == cloud)
        .unwrap()
}

/// The simulator with `config`, on a free loopback port.
pub async fn spawn_sim(config: SimConfig) -> SimHandle {
    ota_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// A Console on the data folder `data` with the simulator's sandbox accounts attached and the fleet
/// read once; the accounts attached.
pub async fn sandbox_console(sim: &SimHandle, data: &Path) -> (Arc<Console>, Vec<Account>) {
    attached(sim, scaled_console(data, None)).await
}

/// As [`sandbox_console`], with the engine's job clock running `time_scale` times as fast (as the
/// simulator's, so a job's waits match the simulated update).
pub async fn sandbox_console_scaled(
    sim: &SimHandle,
    data: &Path,
    time_scale: f64,
) -> (Arc<Console>, Vec<Account>) {
    attached(sim, scaled_console(data, Some(time_scale))).await
}

/// A Console for sandbox accounts on the data folder `data` (one run of the app), its job clock
/// scaled where `time_scale` is given; no account attached yet.
pub fn scaled_console(data: &Path, time_scale: Option<f64>) -> Arc<Console> {
    let console = Console::new(
        Store::open_in(data).unwrap(),
        // Sandbox accounts never touch the keychain; this only satisfies the constructor.
        Arc::new(Keychain::new("ota-console-test")),
        Arc::new(CloudConnector::default()),
    );
    Arc::new(match time_scale {
        Some(scale) => console.with_job_options(JobOptions::scaled(scale)),
        None => console,
    })
}

/// Attaches the simulator's sandbox accounts to `console` and reads the fleet once.
pub async fn attached(sim: &SimHandle, console: Arc<Console>) -> (Arc<Console>, Vec<Account>) {
    let accounts = ota_clouds::sandbox::attach(&console, &sim.url())
        .await
        .unwrap();
    console.refresh_fleet().await.unwrap();
    (console, accounts)
}

/// The first of `accounts` on `cloud`.
pub fn account_of(accounts: &[Account], cloud: Cloud) -> &Account {
    accounts.iter().find(|a| a.cloud == cloud).unwrap()
}

/// Waits (at most `within`) for the job event that says job `job_id` ended; that view.
pub async fn job_end(
    updates: &mut tokio::sync::broadcast::Receiver<JobView>,
    job_id: i64,
    within: Duration,
) -> JobView {
    job_event(updates, job_id, within, |view| !view.state.is_active()).await
}

/// Waits (at most `within`) for the first event of job `job_id` that `wanted` accepts; that view.
pub async fn job_event(
    updates: &mut tokio::sync::broadcast::Receiver<JobView>,
    job_id: i64,
    within: Duration,
    wanted: impl Fn(&JobView) -> bool,
) -> JobView {
    tokio::time::timeout(within, async {
        loop {
            let view = updates.recv().await.unwrap();
            if view.id == job_id && wanted(&view) {
                return view;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("job {job_id} showed no such event within {within:?}"))
}

/// GETs `url` (a simulator admin path) and reads its JSON answer.
pub async fn get(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// POSTs `body` to `url`, asserting it was accepted; the answer's JSON, `Null` where it has none.
pub async fn post(url: String, body: Value) -> Value {
    accepted_post(url, body)
        .await
        .json()
        .await
        .unwrap_or(Value::Null)
}

/// POSTs `body` to `url`, asserting it was accepted and answered with JSON; that JSON.
pub async fn post_for_json(url: String, body: Value) -> Value {
    accepted_post(url, body).await.json().await.unwrap()
}

async fn accepted_post(url: String, body: Value) -> reqwest::Response {
    let response = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response
}

/// A refusal before anything is done: a validation error whose message says `words`.
pub fn assert_refused(err: &ApiError, words: &str) {
    assert_eq!(err.code, ErrorKind::Validation, "{}", err.display_line());
    assert!(
        err.message.contains(words),
        "the refusal says what is wrong: {}",
        err.message
    );
}

/// What a camera too low on battery to update answers a start with, as the user reads it.
pub fn assert_low_battery_explained(err: &ApiError) {
    assert_eq!(err.code, ErrorKind::Device);
    assert_eq!(err.message, "The camera's battery is too low to update.");
    assert_eq!(
        err.hint.as_deref(),
        Some("Charge the camera (or plug it in) and retry.")
    );
    assert_eq!(err.vendor_code.as_deref(), Some("-103"));
}

// ---- the simulator's admin API, by path ----

/// GETs the admin `path` of `sim` (`/_sim/devices`, `/_sim/log`, ...) as JSON.
pub async fn sim_get(sim: &SimHandle, path: &str) -> Value {
    get(format!("{}{path}", sim.url())).await
}

/// POSTs `body` to the admin `path` of `sim`, asserting it was accepted; the answer's JSON, `Null`
/// where it has none.
pub async fn sim_post(sim: &SimHandle, path: &str, body: Value) -> Value {
    post(format!("{}{path}", sim.url()), body).await
}

/// Arms a fault: `{"kind", "target", "count"?}`.
pub async fn fault(sim: &SimHandle, fault: Value) {
    sim_post(sim, "/_sim/faults", fault).await;
}

/// Clears every armed fault.
pub async fn clear_faults(sim: &SimHandle) {
    reqwest::Client::new()
        .delete(format!("{}/_sim/faults", sim.url()))
        .send()
        .await
        .unwrap();
}

/// Changes a simulated device (`{"online": true, "battery": 90}`, ...).
pub async fn patch_device(sim: &SimHandle, id: &str, change: Value) {
    sim_post(sim, &format!("/_sim/devices/{id}"), change).await;
}

/// Moves the simulator's clock on by `by`.
pub async fn advance_clock(sim: &SimHandle, by: Duration) {
    sim_post(
        sim,
        "/_sim/clock",
        json!({"advance_ms": by.as_millis() as u64}),
    )
    .await;
}

/// Every simulated device (the simulator's own records).
pub async fn fleet(sim: &SimHandle) -> Vec<Value> {
    sim_get(sim, "/_sim/devices")
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// The simulated devices of `cloud` ("vicohome", "quectel", "onenet").
pub async fn fleet_of(sim: &SimHandle, cloud: &str) -> Vec<Value> {
    let mut devices = fleet(sim).await;
    devices.retain(|d| d["cloud"] == cloud);
    devices
}

/// The simulator's log entries, in order.
pub async fn sim_log(sim: &SimHandle) -> Vec<Value> {
    sim_get(sim, "/_sim/log").await.as_array().unwrap().clone()
}

/// Outcomes the simulator logged for `endpoint`, in order.
pub async fn logged(sim: &SimHandle, endpoint: &str) -> Vec<String> {
    sim_log(sim)
        .await
        .iter()
        .filter(|e| e["endpoint"] == endpoint)
        .map(|e| e["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// The first camera with an update waiting, put online and charged so it takes the update; its record.
pub async fn updatable_camera(sim: &SimHandle) -> Value {
    let camera = fleet_of(sim, "vicohome")
        .await
        .into_iter()
        .find(|d| d["firmware"] != d["newest_firmware"])
        .expect("a camera with an update");
    let id = camera["id"].as_str().unwrap();
    patch_device(sim, id, json!({"online": true, "battery": 90})).await;
    camera
}

/// (productKey, deviceKeys) of a Quectel product with at least `n` devices of this transport.
pub async fn product_with(sim: &SimHandle, transport: &str, n: usize) -> (String, Vec<String>) {
    let mut by_product: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for d in fleet_of(sim, "quectel").await {
        if d["transport"] == transport {
            by_product
                .entry(d["product_key"].as_str().unwrap().to_string())
                .or_default()
                .push(d["id"].as_str().unwrap().to_string());
        }
    }
    by_product
        .into_iter()
        .find(|(_, devices)| devices.len() >= n)
        .expect("a product with enough devices")
}

/// Creates a Quectel plan upgrading `devices` to [`TARGET`]; (planId, the simulator's wall clock in ms).
pub async fn create_plan(sim: &SimHandle, pk: &str, devices: &[String]) -> (i64, i64) {
    let made = post_for_json(
        format!("{}/_sim/quectel/plans", sim.url()),
        json!({"planName": "Spring update", "targetVersion": TARGET, "productKey": pk, "deviceKeys": devices}),
    )
    .await;
    (
        made["planId"].as_i64().unwrap(),
        made["nowMs"].as_i64().unwrap(),
    )
}
