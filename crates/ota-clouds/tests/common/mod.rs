//! Scaffolding several test files share: an in-memory secret store, a simulator on loopback, a Console
//! holding that simulator's sandbox accounts, and the simulator's admin calls.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use ota_clouds::{CloudConnector, RetryPolicy, VicohomeOptions};
use ota_core::error::CoreError;
use ota_core::secrets::{SecretSlot, SecretStore};
use ota_core::{Account, Console, Keychain, Secret, Store};
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

/// The simulator with `config`, on a free loopback port.
pub async fn spawn_sim(config: SimConfig) -> SimHandle {
    ota_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// A Console on the data folder `data` with the simulator's sandbox accounts attached and the fleet
/// read once; the accounts attached.
pub async fn sandbox_console(sim: &SimHandle, data: &Path) -> (Arc<Console>, Vec<Account>) {
    let console = Arc::new(Console::new(
        Store::open_in(data).unwrap(),
        // Sandbox accounts never touch the keychain; this only satisfies the constructor.
        Arc::new(Keychain::new("ota-console-test")),
        Arc::new(CloudConnector::default()),
    ));
    let accounts = ota_clouds::sandbox::attach(&console, &sim.url())
        .await
        .unwrap();
    console.refresh_fleet().await.unwrap();
    (console, accounts)
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
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response
}

/// (productKey, deviceKeys) of a Quectel product with at least `n` devices of this transport.
pub async fn product_with(sim: &SimHandle, transport: &str, n: usize) -> (String, Vec<String>) {
    let fleet = get(format!("{}/_sim/devices", sim.url())).await;
    let mut by_product: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for d in fleet.as_array().unwrap() {
        if d["cloud"] == "quectel" && d["transport"] == transport {
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
