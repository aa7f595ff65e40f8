//! Helpers shared by the integration tests: a simulator on a free port and small HTTP wrappers.
#![allow(dead_code)]

pub mod onenet;
pub mod quectel;

use serde_json::{json, Value};

pub use ota_sim::{SimConfig, SimHandle};

pub async fn sim_with(config: SimConfig) -> SimHandle {
    ota_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

pub async fn sim(devices: usize, seed: u64, time_scale: f64) -> SimHandle {
    sim_with(SimConfig {
        devices,
        seed,
        time_scale,
        ..Default::default()
    })
    .await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Sends the request and reads its answer as JSON, whatever the status.
pub async fn send_for_json(request: reqwest::RequestBuilder) -> Value {
    request
        .send()
        .await
        .expect("request sent")
        .json()
        .await
        .expect("JSON answer")
}

/// Sends the request and reads its whole body, whatever the status.
pub async fn send_for_bytes(request: reqwest::RequestBuilder) -> Vec<u8> {
    request
        .send()
        .await
        .expect("request sent")
        .bytes()
        .await
        .expect("body read")
        .to_vec()
}

pub async fn get_json(url: String) -> Value {
    let response = client().get(url).send().await.expect("GET");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("JSON")
}

pub async fn post_json(url: String, body: Value) -> Value {
    send_for_json(client().post(url).json(&body)).await
}

pub async fn add_fault(sim: &SimHandle, body: Value) -> Value {
    let response = client()
        .post(format!("{}/_sim/faults", sim.url()))
        .json(&body)
        .send()
        .await
        .expect("POST fault");
    assert_eq!(response.status(), 201, "fault {body} accepted");
    response.json().await.unwrap()
}

pub async fn clear_faults(sim: &SimHandle) {
    client()
        .delete(format!("{}/_sim/faults", sim.url()))
        .send()
        .await
        .unwrap();
}

/// GETs an admin list (`/_sim/devices`, `/_sim/log`, ...) of `sim`.
pub async fn get_list(sim: &SimHandle, path: &str) -> Vec<Value> {
    get_json(format!("{}{path}", sim.url()))
        .await
        .as_array()
        .cloned()
        .unwrap()
}

pub async fn devices(sim: &SimHandle) -> Vec<Value> {
    get_list(sim, "/_sim/devices").await
}

/// The entries of `list` whose `field` is `value`, in order.
fn whose(mut list: Vec<Value>, field: &str, value: &str) -> Vec<Value> {
    list.retain(|entry| entry[field] == value);
    list
}

/// The simulated devices of `cloud`, in `/_sim/devices` order.
pub async fn fleet_of(sim: &SimHandle, cloud: &str) -> Vec<Value> {
    whose(devices(sim).await, "cloud", cloud)
}

pub async fn patch_device(sim: &SimHandle, id: &str, patch: Value) -> Value {
    post_json(format!("{}/_sim/devices/{id}", sim.url()), patch).await
}

pub async fn advance(sim: &SimHandle, ms: u64) {
    post_json(
        format!("{}/_sim/clock", sim.url()),
        json!({ "advance_ms": ms }),
    )
    .await;
}

pub async fn log(sim: &SimHandle) -> Vec<Value> {
    get_list(sim, "/_sim/log").await
}

/// The log entries of calls to `endpoint`, in order.
pub async fn log_of(sim: &SimHandle, endpoint: &str) -> Vec<Value> {
    whose(log(sim).await, "endpoint", endpoint)
}

/// Arms a one-shot fault of `kind` on the device `target` ("*": every call).
pub async fn fault_once(sim: &SimHandle, kind: &str, target: &str) -> Value {
    add_fault(sim, json!({"kind": kind, "target": target, "count": 1})).await
}

/// A cloud's answer about a device holds what the simulator's own record of it says. `fields` names
/// them, blank-separated: `answered:recorded` where the names differ, a single name where they match.
pub fn assert_same_fields(entry: &Value, record: &Value, fields: &str) {
    for field in fields.split_whitespace() {
        let (answered, recorded) = field.split_once(':').unwrap_or((field, field));
        assert_eq!(
            entry[answered], record[recorded],
            "{answered} (the record's {recorded}) of {entry}"
        );
    }
}

/// A signed-in Vicohome session.
pub struct Vico {
    pub base: String,
    pub token: String,
}

impl Vico {
    pub async fn login(sim: &SimHandle) -> Self {
        let accounts = get_json(format!("{}/_sim/accounts", sim.url())).await;
        let body = json!({
            "email": accounts["vicohome"]["email"],
            "password": accounts["vicohome"]["password"],
            "loginType": 0,
        });
        let answer = post_json(format!("{}/account/login", sim.url()), body).await;
        assert_eq!(answer["result"], 0, "{answer}");
        let token = answer["data"]["token"]["token"]
            .as_str()
            .unwrap()
            .to_string();
        Self {
            base: sim.url(),
            token,
        }
    }

    pub async fn raw(&self, path: &str, body: Value) -> reqwest::Response {
        client()
            .post(format!("{}{path}", self.base))
            .header("Authorization", &self.token)
            .json(&body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn call(&self, path: &str, body: Value) -> Value {
        self.raw(path, body)
            .await
            .json()
            .await
            .expect("JSON envelope")
    }

    pub async fn start(&self, serial: &str) -> Value {
        self.call(
            "/device/otastart/",
            json!({"serialNumber": serial, "app": "vicohome", "countryNo": "US", "language": "en", "tenantId": "vicohome"}),
        )
        .await
    }

    pub async fn status(&self, serial: &str) -> Value {
        self.call("/device/otastatus/", json!({ "serialNumber": serial }))
            .await
    }

    /// `/device/selectsingledevice` for this camera; the whole answer.
    pub async fn select(&self, serial: &str) -> Value {
        self.call(
            "/device/selectsingledevice",
            json!({ "serialNumber": serial }),
        )
        .await
    }

    pub async fn list(&self) -> Vec<Value> {
        let answer = self
            .call(
                "/device/listuserdevices",
                json!({"language": "en", "countryNo": "US"}),
            )
            .await;
        assert_eq!(answer["result"], 0, "{answer}");
        answer["data"]["list"].as_array().cloned().unwrap()
    }
}

/// The first Vicohome camera (in /_sim/devices order) that `pick` accepts.
pub async fn camera(sim: &SimHandle, pick: impl Fn(&Value) -> bool) -> Value {
    devices(sim)
        .await
        .into_iter()
        .find(|d| d["cloud"] == "vicohome" && pick(d))
        .expect("a matching camera")
}

/// A camera that can update right now: online, not on the newest firmware, battery fine.
pub async fn updatable_camera(sim: &SimHandle) -> Value {
    camera(sim, |d| {
        d["online"] == true
            && d["firmware"] != d["newest_firmware"]
            && d["battery"].as_u64().unwrap() >= 20
    })
    .await
}

/// A simulator (`devices` devices from `seed`, its clock `time_scale` times as fast), a camera of it
/// that can update right now (see [`updatable_camera`]) and a signed-in Vicohome session.
pub async fn camera_session(
    devices: usize,
    seed: u64,
    time_scale: f64,
) -> (SimHandle, Value, Vico) {
    let sim = sim(devices, seed, time_scale).await;
    let camera = updatable_camera(&sim).await;
    let vico = Vico::login(&sim).await;
    (sim, camera, vico)
}
