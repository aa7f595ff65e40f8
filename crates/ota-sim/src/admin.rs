//! The test-only admin API under `/_sim/`: fleet, accounts, faults, call log, device patches and the
//! simulated clock. These calls are not cloud calls: no faults, no log lines.
//!
//! - `GET /_sim/devices`, `GET /_sim/devices/{id}`; `POST /_sim/devices/{id}` `{"online"?, "battery"?,
//!   "is_charging"?, "firmware"?}` changes what a device reports.
//! - `GET /_sim/accounts`.
//! - `GET|POST|DELETE /_sim/faults` (`{"kind", "target"? ("*"), "count"?}` → 201), `DELETE
//!   /_sim/faults/{id}`.
//! - `GET|DELETE /_sim/log`.
//! - `GET /_sim/clock`, `POST /_sim/clock` `{"advance_ms"}` → `{"sim_ms", "time_scale"}`.
//! - `GET /_sim/info` → `{"simulator": "ota-sim", "version", "seed", "devices", "time_scale", "sim_ms"}`: what
//!   a client needs to match this simulator (e.g. poll at its pace: at time scale 200 a 5 s vendor poll
//!   interval is 25 ms of real time).
//!
//! Elsewhere: `POST /_sim/vicohome/firmware` (publish a Vicohome version) and `GET|DELETE /_sim/starts`
//! (accepted update starts per device) in `publish`; Quectel plans `POST /_sim/quectel/plans` in
//! `quectel::admin`; OneNET tasks (`/_sim/onenet/tasks`, optionally `"autonomous": true`) and products in
//! `onenet::admin`.
//!
//! Runs are evaluated lazily on the simulated clock, so every call that changes what a run depends on
//! (a device patch, a fault switched on or off) first settles the world as of now.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::faults::FaultSpec;
use crate::world::Sim;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/_sim/devices", get(devices))
        .route("/_sim/devices/{id}", get(device).post(patch_device))
        .route("/_sim/accounts", get(accounts))
        .route(
            "/_sim/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route("/_sim/faults/{id}", delete(remove_fault))
        .route("/_sim/log", get(log).delete(clear_log))
        .route("/_sim/clock", get(clock).post(advance_clock))
        .route("/_sim/info", get(info))
}

async fn info(State(sim): State<Arc<Sim>>) -> Response {
    let world = sim.lock();
    Json(json!({
        "simulator": "ota-sim",
        "version": env!("CARGO_PKG_VERSION"),
        "seed": world.seed,
        "devices": world.fleet.devices.len(),
        "time_scale": world.clock.time_scale(),
        "sim_ms": world.now_ms().max(0.0) as u64,
    }))
    .into_response()
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

fn not_found(message: impl Into<String>) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

/// The body as `T`, or why not.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

async fn devices(State(sim): State<Arc<Sim>>) -> Response {
    let mut world = sim.lock();
    world.settle();
    Json(&world.fleet.devices).into_response()
}

async fn device(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let mut world = sim.lock();
    world.settle();
    match world.device(&id) {
        Some(device) => Json(device).into_response(),
        None => not_found(format!("no device {id}")),
    }
}

/// `POST /_sim/devices/{id}`: change what a device reports.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DevicePatch {
    online: Option<bool>,
    battery: Option<u8>,
    is_charging: Option<bool>,
    firmware: Option<String>,
}

async fn patch_device(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let patch: DevicePatch = match parse_body(&body) {
        Ok(patch) => patch,
        Err(why) => return bad_request(why),
    };
    if patch.battery.is_some_and(|b| b > 100) {
        return bad_request("battery must be 0..=100");
    }
    let mut world = sim.lock();
    world.settle();
    let Some(device) = world.device_mut(&id) else {
        return not_found(format!("no device {id}"));
    };
    if let Some(online) = patch.online {
        device.online = online;
    }
    if let Some(battery) = patch.battery {
        device.battery = battery;
    }
    if let Some(charging) = patch.is_charging {
        device.is_charging = charging;
    }
    if let Some(firmware) = patch.firmware {
        device.firmware = firmware;
    }
    Json(&*device).into_response()
}

async fn accounts(State(sim): State<Arc<Sim>>) -> Response {
    let world = sim.lock();
    Json(&world.fleet.accounts).into_response()
}

async fn faults(State(sim): State<Arc<Sim>>) -> Response {
    let world = sim.lock();
    Json(world.faults.list()).into_response()
}

async fn add_fault(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let spec: FaultSpec = match parse_body(&body) {
        Ok(spec) => spec,
        Err(why) => return bad_request(why),
    };
    if let Err(err) = spec.validate() {
        return bad_request(err.to_string());
    }
    let mut world = sim.lock();
    world.settle();
    let fault = world.faults.add(spec);
    (StatusCode::CREATED, Json(fault)).into_response()
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> Response {
    let mut world = sim.lock();
    world.settle();
    let cleared = world.faults.clear();
    Json(json!({ "cleared": cleared })).into_response()
}

async fn remove_fault(State(sim): State<Arc<Sim>>, Path(id): Path<u64>) -> Response {
    let mut world = sim.lock();
    world.settle();
    if world.faults.remove(id) {
        Json(json!({ "cleared": 1 })).into_response()
    } else {
        not_found(format!("no fault {id}"))
    }
}

async fn log(State(sim): State<Arc<Sim>>) -> Response {
    let entries = sim.lock().log.entries();
    Json(entries).into_response()
}

async fn clear_log(State(sim): State<Arc<Sim>>) -> Response {
    let cleared = sim.lock().log.clear();
    Json(json!({ "cleared": cleared })).into_response()
}

fn clock_state(sim: &Sim) -> Response {
    let world = sim.lock();
    Json(json!({
        "sim_ms": world.now_ms().max(0.0) as u64,
        "time_scale": world.clock.time_scale(),
    }))
    .into_response()
}

async fn clock(State(sim): State<Arc<Sim>>) -> Response {
    clock_state(&sim)
}

/// `POST /_sim/clock {"advance_ms": n}`: jumps simulated time forward (OTA runs, token expiry).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    advance_ms: u64,
}

async fn advance_clock(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let advance: Advance = match parse_body(&body) {
        Ok(advance) => advance,
        Err(why) => return bad_request(why),
    };
    sim.lock()
        .clock
        .advance(Duration::from_millis(advance.advance_ms));
    clock_state(&sim)
}
