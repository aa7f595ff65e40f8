//! What stands in for the clouds' release systems, and the simulator's own record of update starts.
//! Test-only admin calls like those in `admin`: no faults, no call log; errors are `{"error": "..."}`.
//!
//! - `POST /_sim/vicohome/firmware` `{"version": "2.0.0", "model"?: "CG1" (absent = every Vicohome
//!   model), "size"?: bytes (absent = keep the model's package size)}` → 201 `{"version", "models":
//!   ["CG1", ...], "devices": n}`. The version becomes the newest firmware of the model(s)
//!   (`vicohome_models`) and of each of their cameras (`newest_firmware`), so `selectsingledevice` and
//!   `listuserdevices` offer it (`newestFirmwareId`) and `otastart` updates to it, with a package of
//!   `size` bytes. `devices` counts the cameras now offered it (those of the model(s) not already
//!   running it). A camera already updating keeps its run's target. 400 for a body that is not that
//!   JSON, a version not matching `[A-Za-z0-9_.-]{1,32}` (empty included) or a size of 0; 404 for an
//!   unknown model.
//! - `GET /_sim/starts` → `{"vicohome": {"<serial>": n}, "quectel": {"<deviceKey>": n}, "onenet":
//!   {"<dev_id>": n}}`: accepted update starts per device, devices with none left out —
//!   - Vicohome: `/device/otastart/` calls that began a new OTA run (not the idempotent "already in
//!     progress" answer, not errors);
//!   - Quectel: `userBatchConfirmUpgrade` items with operType 1 (upgrade now), 2 (appoint) or 5
//!     (retry) that were accepted (in `successList`);
//!   - OneNET: tasks made through `POST /_sim/onenet/tasks` (autonomous or not).
//!
//!   Tests reconcile a client's own counts against it. `DELETE /_sim/starts` clears it → `{"cleared":
//!   true}`.
//!
//! Quectel plans and OneNET tasks have their own management endpoints (`quectel::admin`,
//! `onenet::admin`).

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
    // Cameras offered it: those of the model(s) not already running it. A camera mid-update keeps its
    // run's target (the run holds it) and is offered this one once that run is over.
    let mut devices = 0u64;
    for device in world
        .fleet
        .devices
        .iter_mut()
        .filter(|d| d.cloud == Cloud::Vicohome && wanted(&d.model))
    {
        device.newest_firmware = new.version.clone();
        if device.firmware != new.version {
            devices += 1;
        }
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
