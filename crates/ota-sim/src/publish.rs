//! What stands in for the clouds' release systems, and the simulator's own record of update starts:
//!
//! - `POST /_sim/vicohome/firmware` `{"version", "model"? (absent = every model), "size"? (bytes)}` → 201
//!   `{"version", "models": [...], "devices": n}`: the version becomes the newest firmware of the model(s)
//!   and of their cameras, so `otastart` updates them to it. 400 for a bad version, 404 for an unknown
//!   model. A camera already updating keeps its run's target.
//! - `GET /_sim/starts` → `{"vicohome": {serial: n}, "quectel": {deviceKey: n}, "onenet": {dev_id: n}}`:
//!   accepted starts per device — otastart calls that began a new run, accepted userBatchConfirmUpgrade
//!   items with operType 1, 2 or 5, and OneNET tasks created through `/_sim/onenet/tasks`. Tests reconcile
//!   a client's counts against it. `DELETE /_sim/starts` clears it.
//!
//! Quectel plans and OneNET tasks have their own management endpoints (`quectel_ota`, `onenet_device`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::fleet::Cloud;
use crate::world::Sim;

/// Accepted update starts per cloud and device.
#[derive(Debug, Default, Clone, Serialize)]
pub struct StartRecord {
    pub vicohome: BTreeMap<String, u64>,
    pub quectel: BTreeMap<String, u64>,
    pub onenet: BTreeMap<String, u64>,
}

impl StartRecord {
    pub fn count(&mut self, cloud: Cloud, device: &str) {
        let map = match cloud {
            Cloud::Vicohome => &mut self.vicohome,
            Cloud::Quectel => &mut self.quectel,
            Cloud::Onenet => &mut self.onenet,
        };
        *map.entry(device.to_string()).or_default() += 1;
    }
}

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/_sim/vicohome/firmware", post(publish_vicohome))
        .route("/_sim/starts", get(starts).delete(clear_starts))
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVicohomeFirmware {
    version: String,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    size: Option<u64>,
}

fn valid_version(v: &str) -> bool {
    (1..=32).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

async fn publish_vicohome(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let new: NewVicohomeFirmware = match serde_json::from_slice(&body) {
        Ok(new) => new,
        Err(err) => return refuse(StatusCode::BAD_REQUEST, format!("invalid JSON body: {err}")),
    };
    if !valid_version(&new.version) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "version must match [A-Za-z0-9_.-]{1,32}",
        );
    }
    if new.size == Some(0) {
        return refuse(StatusCode::BAD_REQUEST, "size must be at least 1 byte");
    }
    let mut world = sim.lock();
    world.settle();
    if let Some(model) = &new.model {
        if world.fleet.vico_model(model).is_none() {
            return refuse(StatusCode::NOT_FOUND, format!("no Vicohome model {model}"));
        }
    }
    let wanted = |m: &str| new.model.as_deref().is_none_or(|w| w == m);
    let mut models = Vec::new();
    for model in world
        .fleet
        .vicohome_models
        .iter_mut()
        .filter(|m| wanted(&m.model))
    {
        model.newest_firmware = new.version.clone();
        if let Some(size) = new.size {
            model.package_size = size;
        }
        models.push(model.model.clone());
    }
    let mut devices = 0u64;
    for device in world
        .fleet
        .devices
        .iter_mut()
        .filter(|d| d.cloud == Cloud::Vicohome && wanted(&d.model))
    {
        device.newest_firmware = new.version.clone();
        devices += 1;
    }
    (
        StatusCode::CREATED,
        Json(json!({ "version": new.version, "models": models, "devices": devices })),
    )
        .into_response()
}

async fn starts(State(sim): State<Arc<Sim>>) -> Response {
    Json(sim.lock().starts.clone()).into_response()
}

async fn clear_starts(State(sim): State<Arc<Sim>>) -> Response {
    sim.lock().starts = StartRecord::default();
    Json(json!({ "cleared": true })).into_response()
}
