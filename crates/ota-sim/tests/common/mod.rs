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

pub async fn devices(sim: &SimHandle) -> Vec<Value> {
    get_json(format!("{}/_sim/devices", sim.url()))
        .await
        .as_array()
        .cloned()
        .unwrap()
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
    get_json(format!("{}/_sim/log", sim.url()))
        .await
        .as_array()
        .cloned()
        .unwrap()
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
