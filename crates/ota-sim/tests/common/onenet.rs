//! A OneNET device of the simulated fleet as its firmware would talk to the device-side OTA API:
//! product tokens signed with the sim's own signer (checked against Python vectors in its unit tests),
//! plus the `/_sim/onenet/` management calls.

use md5::Digest;
use ota_sim::onenet::auth::{sign_token, SignMethod};
use serde_json::{json, Value};

use super::*;

pub const HOUR: u64 = 3600;

pub fn now() -> u64 {
    ota_sim::clock::unix_secs()
}

pub fn md5_hex(bytes: &[u8]) -> String {
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub struct Onenet {
    pub base: String,
    pub dev_id: String,
    pub name: String,
    pub manuf: String,
    pub model: String,
    pub version: String,
    pub newest: String,
    pub product_id: String,
    pub key: String,
}

impl Onenet {
    /// The `nth` OneNET device of the fleet (in `/_sim/devices` order).
    pub async fn nth(sim: &SimHandle, nth: usize) -> Self {
        let device = devices(sim)
            .await
            .into_iter()
            .filter(|d| d["cloud"] == "onenet")
            .nth(nth)
            .expect("enough OneNET devices");
        let product_id = device["product_key"].as_str().unwrap().to_string();
        let products = get_json(format!("{}/_sim/onenet/products", sim.url())).await;
        let key = products
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["product_id"] == product_id.as_str())
            .expect("the device's product")["access_key"]
            .as_str()
            .unwrap()
            .to_string();
        let s = |k: &str| device[k].as_str().unwrap().to_string();
        Self {
            base: sim.url(),
            dev_id: s("id"),
            name: s("name"),
            manuf: s("manufacturer"),
            model: s("model"),
            version: s("firmware"),
            newest: s("newest_firmware"),
            product_id,
            key,
        }
    }

    pub async fn first(sim: &SimHandle) -> Self {
        Self::nth(sim, 0).await
    }

    /// A simulator of 60 devices (seed 42, real time) and its first OneNET device.
    pub async fn first_of_a_fresh_sim() -> (SimHandle, Self) {
        let sim = sim(60, 42, 1.0).await;
        let device = Self::first(&sim).await;
        (sim, device)
    }

    /// A new (pending) task of `size` bytes to `target`; answers (task, its download token).
    pub async fn pending(&self, target: &str, size: u64) -> (Value, String) {
        let task = self
            .create_task(json!({"target": target, "size": size}))
            .await;
        let token = task["token"].as_str().unwrap().to_string();
        (task, token)
    }

    /// The first OneNET device, put online (so an autonomous task runs on it).
    pub async fn first_online(sim: &SimHandle) -> Self {
        let device = Self::first(sim).await;
        patch_device(sim, &device.dev_id, json!({"online": true})).await;
        device
    }

    /// `POST /_sim/onenet/tasks`: a task of `size` bytes to `target` that the device runs on its own.
    pub async fn autonomous_task(&self, target: &str, size: u64) -> Value {
        self.create_task(json!({"target": target, "size": size, "autonomous": true}))
            .await
    }

    /// A product token valid for an hour.
    pub fn token(&self) -> String {
        self.token_at(now() + HOUR)
    }

    pub fn token_at(&self, et: u64) -> String {
        sign_token(
            &self.key,
            &format!("products/{}", self.product_id),
            et,
            SignMethod::Sha1,
        )
        .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /_sim/onenet/tasks` with `dev_id` filled in; expects 201.
    pub async fn create_task(&self, mut body: Value) -> Value {
        if body.get("dev_id").is_none() {
            body["dev_id"] = json!(self.dev_id);
        }
        let response = client()
            .post(self.url("/_sim/onenet/tasks"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{body}");
        response.json().await.unwrap()
    }

    pub async fn task(&self, id: &Value) -> Value {
        get_json(self.url(&format!("/_sim/onenet/tasks/{id}"))).await
    }

    pub async fn get(&self, path: &str, auth: &str) -> Value {
        client()
            .get(self.url(path))
            .header("Authorization", auth)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A POST with `Content-Type: application/json`, as the vendor requires.
    pub async fn post(&self, path: &str, auth: &str, body: &str) -> Value {
        self.post_typed(path, auth, body, Some("application/json"))
            .await
    }

    /// A POST with the given `Content-Type` (None: without one).
    pub async fn post_typed(
        &self,
        path: &str,
        auth: &str,
        body: &str,
        content_type: Option<&str>,
    ) -> Value {
        let mut request = client()
            .post(self.url(path))
            .header("Authorization", auth)
            .body(body.to_string());
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// The seed's check: manuf, model, type 2, the device's version, cdn=false.
    pub async fn check(&self, auth: &str) -> Value {
        self.get(
            &format!(
                "/ota/south/check?dev_id={}&manuf={}&model={}&type=2&version={}&cdn=false",
                self.dev_id, self.manuf, self.model, self.version
            ),
            auth,
        )
        .await
    }

    pub async fn token_check(&self, token: &str) -> Value {
        self.get(
            &format!("/ota/south/download/{token}/check?dev_id={}", self.dev_id),
            &self.token(),
        )
        .await
    }

    pub async fn report(&self, token: &str, body: &str) -> Value {
        self.post(
            &format!("/ota/south/report?dev_id={}&token={token}", self.dev_id),
            &self.token(),
            body,
        )
        .await
    }

    pub async fn progress(&self, token: &str, body: &str) -> Value {
        self.post(
            &format!(
                "/ota/south/device/download/{token}/progress?dev_id={}",
                self.dev_id
            ),
            &self.token(),
            body,
        )
        .await
    }

    /// A download request (with dev_id and Authorization) and an optional Range.
    pub fn download(&self, token: &str, range: Option<&str>) -> reqwest::RequestBuilder {
        let mut request = client()
            .get(self.url(&format!(
                "/ota/south/download/{token}?dev_id={}",
                self.dev_id
            )))
            .header("Authorization", self.token());
        if let Some(range) = range {
            request = request.header("Range", range);
        }
        request
    }

    /// A new task of `size` bytes to `target`, moved to downloading; answers (task, token).
    pub async fn downloading(&self, target: &str, size: u64) -> (Value, String) {
        let (task, token) = self.pending(target, size).await;
        assert_eq!(self.token_check(&token).await["errno"], 0);
        (task, token)
    }
}

/// Reads a response body to its end; true when it ended in an error rather than cleanly.
pub async fn read_body(mut response: reqwest::Response) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => return (got, false),
            Err(_) => return (got, true),
        }
    }
}
