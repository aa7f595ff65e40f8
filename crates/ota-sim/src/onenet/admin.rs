//! The simulator's OneNET management endpoints (OneNET publishes no "north" API): make, list, cancel,
//! pause and resume upgrade tasks; read the products' access keys. Not cloud calls: no faults, no log.
//! Errors are `{"error": "..."}` with 400 (bad body), 404 (no such task) or 409 (wrong state).
//!
//! - `POST /_sim/onenet/tasks` `{"dev_id", "target", "size"? (1 MiB), "type"? 1|2 (2),
//!   "package"? "full"|"diff" ("full"), "from_version"? (needed for diff), "signal"? (10), "power"? (50),
//!   "retry"? (0), "interval"? (0), "manuf"?, "model"? (the device's)}` → 201 with the task. The
//!   download token is minted here, so `token` is never null. A device's unfinished task of the same
//!   type is cancelled by the new one.
//!   `"autonomous"? (false)`: true makes the simulated device carry the task out by itself on the
//!   simulated clock (see `autonomous`: download at 1 MiB/s, at least 2 s, then 10 s upgrading; held
//!   while the device is offline; `download_fail` → failed with 107, `install_fail` → failed with 206).
//!   Every task made here counts as one start of its device in `GET /_sim/starts`.
//! - The task view: `{"id", "task_id" (the same), "dev_id", "product_id", "target", "type", "package", "from_version",
//!   "manuf", "model", "size", "md5", "signal", "power", "retry", "interval", "state" (pending |
//!   downloading | upgrading | succeeded | failed | cancelled | paused), "token", "last_result" (the last
//!   result code, or null), "result" (a failed task's result code, else null), "step" (download percent last reported), "bytes_served", "created_ms",
//!   "updated_ms" (simulated ms), "autonomous", "progress" (0–100: an autonomous task's way through
//!   download and upgrade, else `step`), "error" (why an autonomous task failed, else null)}`.
//! - `GET /_sim/onenet/tasks[?dev_id=]`, `GET /_sim/onenet/tasks/{id}`.
//! - `POST /_sim/onenet/tasks/{id}/cancel` (any unfinished state; an autonomous task stops where it
//!   is), `/pause` (pending or downloading; an autonomous device stops working on it), `/resume`
//!   (paused → the state it was paused in).
//! - `GET /_sim/onenet/products` → `[{"product_id", "access_key"}]`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::tasks::{
    valid_version, Package, Task, TaskSpec, TaskState, TaskView, APPLICATION, DIFF, FULL,
    MAX_PACKAGE, MODULE,
};
use crate::fleet::{Cloud, Device};
use crate::world::Sim;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/_sim/onenet/products", get(products))
        .route("/_sim/onenet/tasks", get(list).post(create))
        .route("/_sim/onenet/tasks/{id}", get(one))
        .route("/_sim/onenet/tasks/{id}/cancel", post(cancel))
        .route("/_sim/onenet/tasks/{id}/pause", post(pause))
        .route("/_sim/onenet/tasks/{id}/resume", post(resume))
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn products(State(sim): State<Arc<Sim>>) -> Response {
    Json(&sim.lock().fleet.onenet_products).into_response()
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    dev_id: Option<String>,
}

async fn list(State(sim): State<Arc<Sim>>, Query(query): Query<ListQuery>) -> Response {
    let mut world = sim.lock();
    world.settle();
    let views: Vec<TaskView> = world
        .onenet
        .tasks
        .iter()
        .filter(|t| query.dev_id.as_deref().is_none_or(|d| d == t.spec.dev_id))
        .map(Task::view)
        .collect();
    Json(views).into_response()
}

async fn one(State(sim): State<Arc<Sim>>, Path(id): Path<u64>) -> Response {
    let mut world = sim.lock();
    world.settle();
    match world.onenet.task(id) {
        Some(task) => Json(task.view()).into_response(),
        None => refuse(StatusCode::NOT_FOUND, format!("no task {id}")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTask {
    dev_id: String,
    target: String,
    #[serde(default = "default_size")]
    size: u64,
    #[serde(default = "default_type", rename = "type")]
    task_type: u8,
    package: Option<String>,
    from_version: Option<String>,
    #[serde(default = "default_signal")]
    signal: i64,
    #[serde(default = "default_power")]
    power: i64,
    #[serde(default)]
    retry: i64,
    #[serde(default)]
    interval: i64,
    manuf: Option<String>,
    model: Option<String>,
    /// The simulated device carries the task out by itself (see `autonomous`).
    #[serde(default)]
    autonomous: bool,
}

fn default_size() -> u64 {
    1024 * 1024
}
fn default_type() -> u8 {
    APPLICATION
}
fn default_signal() -> i64 {
    super::sandbox::SIGNAL
}
fn default_power() -> i64 {
    super::sandbox::POWER
}

/// The body's rules that need no device: versions, size, type, package kind.
fn validate(new: &NewTask) -> Result<u8, String> {
    if !valid_version(&new.target) {
        return Err("target must match [A-Za-z0-9_.-]{1,20}".into());
    }
    if new
        .from_version
        .as_deref()
        .is_some_and(|v| !valid_version(v))
    {
        return Err("from_version must match [A-Za-z0-9_.-]{1,20}".into());
    }
    if new.size == 0 || new.size > MAX_PACKAGE {
        return Err("size must be 1 byte .. 512 MiB".into());
    }
    if !matches!(new.task_type, MODULE | APPLICATION) {
        return Err("type is 1 (module) or 2 (application)".into());
    }
    match new.package.as_deref() {
        None | Some("full") => Ok(FULL),
        Some("diff") if new.from_version.is_some() => Ok(DIFF),
        Some("diff") => Err("a diff package needs from_version".into()),
        Some(other) => Err(format!("package {other:?} is \"full\" or \"diff\"")),
    }
}

fn spec_of(new: NewTask, device: Device, package_kind: u8) -> TaskSpec {
    let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    TaskSpec {
        dev_id: device.id,
        product_id: device.product_key.unwrap_or_default(),
        target: new.target,
        task_type: new.task_type,
        package_kind,
        from_version: new.from_version,
        manuf: given(new.manuf).unwrap_or(device.manufacturer),
        model: given(new.model).unwrap_or(device.model),
        signal: new.signal,
        power: new.power,
        retry: new.retry,
        interval: new.interval,
    }
}

async fn create(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let new: NewTask = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("invalid task: {e}")),
    };
    let package_kind = match validate(&new) {
        Ok(kind) => kind,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    let (device, seed, id) = {
        let mut world = sim.lock();
        let Some(device) = world
            .device(&new.dev_id)
            .filter(|d| d.cloud == Cloud::Onenet)
            .cloned()
        else {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("no OneNET device {:?}", new.dev_id),
            );
        };
        let id = world.onenet.next_id();
        (device, world.seed, id)
    };
    // Made outside the lock: a large package takes a moment.
    let size = new.size;
    let package = match tokio::task::spawn_blocking(move || {
        Package::generate(seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15), size)
    })
    .await
    {
        Ok(package) => Arc::new(package),
        Err(err) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("package: {err}")),
    };
    let autonomous = new.autonomous;
    let spec = spec_of(new, device, package_kind);
    let mut world = sim.lock();
    world.settle();
    let now = world.now_ms();
    let token = format!("ota_{}", world.mint.mint(20));
    let dev_id = spec.dev_id.clone();
    let mut view = world.onenet.add(id, spec, package, token, now);
    if autonomous {
        if let Some(task) = world.onenet.task_mut(id) {
            task.auto = Some(super::autonomous::AutoRun::new(now));
            view = task.view();
            world.onenet.autonomous.push(id);
        }
    }
    world.starts.count(Cloud::Onenet, &dev_id);
    (StatusCode::CREATED, Json(view)).into_response()
}

/// Moves task `id` with `step` (which answers the new state, or None when the move is not allowed).
fn change(sim: &Sim, id: u64, step: impl FnOnce(&Task) -> Option<TaskState>) -> Response {
    let mut world = sim.lock();
    // An autonomous task may have moved on (or finished) since it was last looked at.
    world.settle();
    let now = world.now_ms();
    let Some(task) = world.onenet.task_mut(id) else {
        return refuse(StatusCode::NOT_FOUND, format!("no task {id}"));
    };
    let Some(next) = step(task) else {
        return refuse(
            StatusCode::CONFLICT,
            format!("task {id} is {}", json!(task.state)),
        );
    };
    task.paused_from = (next == TaskState::Paused).then_some(task.state);
    task.set_state(next, now);
    Json(task.view()).into_response()
}

async fn cancel(State(sim): State<Arc<Sim>>, Path(id): Path<u64>) -> Response {
    change(&sim, id, |t| {
        t.state.is_unfinished().then_some(TaskState::Cancelled)
    })
}

async fn pause(State(sim): State<Arc<Sim>>, Path(id): Path<u64>) -> Response {
    change(&sim, id, |t| {
        matches!(t.state, TaskState::Pending | TaskState::Downloading).then_some(TaskState::Paused)
    })
}

async fn resume(State(sim): State<Arc<Sim>>, Path(id): Path<u64>) -> Response {
    change(&sim, id, |t| {
        (t.state == TaskState::Paused).then_some(t.paused_from.unwrap_or(TaskState::Pending))
    })
}
