//! Sandbox-only management: the simulator's `/_sim/` API, standing in for what the clouds do not offer
//! publicly — publishing firmware (Vicohome, Quectel plans) and creating OneNET upgrade tasks. The
//! connector gives a [`SimAdmin`] only to sandbox accounts (at the account's base URL, the simulator);
//! for a real account the per-cloud updates in `fleet_updates` have none and say where to do it instead.
//! Every `/_sim/` path the engine uses is in this module.

use ota_core::{ApiError, ErrorKind};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::{self, BaseUrl};

/// The simulator's management API, reached at a sandbox account's base URL.
#[derive(Clone)]
pub struct SimAdmin {
    http: reqwest::Client,
    base: BaseUrl,
}

/// A OneNET task as the simulator's `/_sim/onenet/tasks` shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct SimTask {
    pub task_id: u64,
    /// The version the task installs.
    pub target: String,
    /// e.g. "pending", "downloading", "succeeded", "failed", "cancelled".
    pub state: String,
    /// 0–100.
    #[serde(default)]
    pub progress: Option<f64>,
    /// The last result code the device reported.
    #[serde(default)]
    pub last_result: Option<i64>,
    #[serde(default)]
    pub error: Option<String>,
}

impl SimAdmin {
    pub fn new(http: reqwest::Client, base: BaseUrl) -> Self {
        Self { http, base }
    }

    /// `POST /_sim/vicohome/firmware`: the simulator offers `version` to its cameras (of `model`, or
    /// all); the number of cameras it now offers it to.
    pub async fn offer_vicohome_firmware(
        &self,
        version: &str,
        size: u64,
        model: Option<&str>,
    ) -> Result<u64, ApiError> {
        let mut body = json!({ "version": version, "size": size });
        if let Some(model) = model {
            body["model"] = json!(model);
        }
        let answer = self.post("/_sim/vicohome/firmware", body).await?;
        Ok(answer.get("devices").and_then(Value::as_u64).unwrap_or(0))
    }

    /// `POST /_sim/quectel/plans`: an upgrade plan to `version` for the product's devices; its id, when
    /// the simulator gave one.
    pub async fn create_quectel_plan(
        &self,
        product_key: &str,
        version: &str,
        plan_name: &str,
    ) -> Result<Option<i64>, ApiError> {
        let answer = self
            .post(
                "/_sim/quectel/plans",
                json!({
                    "productKey": product_key,
                    "targetVersion": version,
                    "planName": plan_name,
                }),
            )
            .await?;
        Ok(answer.get("planId").and_then(Value::as_i64))
    }

    /// `GET /_sim/onenet/tasks?dev_id=…`: the device's tasks.
    pub async fn onenet_tasks(&self, dev_id: &str) -> Result<Vec<SimTask>, ApiError> {
        let answer = self
            .get("/_sim/onenet/tasks", &[("dev_id", dev_id)])
            .await?;
        serde_json::from_value(answer).map_err(|_| http::unreadable_answer())
    }

    /// `POST /_sim/onenet/tasks`: a task to `version` for the device, which the simulated device runs
    /// by itself (`autonomous`).
    pub async fn create_onenet_task(
        &self,
        dev_id: &str,
        version: &str,
        size: u64,
    ) -> Result<SimTask, ApiError> {
        let answer = self
            .post(
                "/_sim/onenet/tasks",
                json!({
                    "dev_id": dev_id,
                    "target": version,
                    "size": size,
                    "autonomous": true,
                }),
            )
            .await?;
        serde_json::from_value(answer).map_err(|_| http::unreadable_answer())
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Value, ApiError> {
        let host = self.base.host_label();
        let mut request = self
            .http
            .request(method, self.base.endpoint(path))
            .query(query);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = http::send(request, &host).await?;
        let value: Value =
            serde_json::from_slice(&answer.body).map_err(|_| http::unreadable_answer())?;
        if answer.status.is_success() {
            return Ok(value);
        }
        let why = value
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("refused")
            .to_string();
        let kind = match answer.status.as_u16() {
            400 => ErrorKind::Validation,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            429 => ErrorKind::RateLimited,
            _ => ErrorKind::Retryable,
        };
        Err(ApiError::new(
            kind,
            format!("The sandbox refused it: {why}."),
        ))
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, ApiError> {
        self.call(reqwest::Method::POST, path, &[], Some(body))
            .await
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ApiError> {
        self.call(reqwest::Method::GET, path, query, None).await
    }
}
