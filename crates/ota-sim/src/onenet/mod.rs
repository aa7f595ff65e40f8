//! OneNET's device-side OTA API ("south"), written from the seed (`onenet-ota-south-api.md`) and the
//! shared notes, never from the client: task check, tasking, download-token check, ranged package
//! download, download progress, result report and device versions, every call authorised by a real
//! OneNET token of the device's product; plus the simulator's own task management under
//! `/_sim/onenet/` (OneNET publishes no "north" API), the sandbox's default tasks and autonomous devices
//! that carry a task out by themselves on the simulated clock (`"autonomous": true`, see `autonomous`).
//!
//! JSON answers: envelope `{"errno", "error", "data"}`, HTTP 200 even for errors, through
//! `gateway::serve` (faults, call log with target = dev_id). Download errors are a 200 with
//! no `Content-Length` and the one-byte body `1` (nothing to serve) or `3` (invalid token).
//!
//! `Content-Type: application/json` (the vendor marks it required) is demanded of the calls that carry
//! a JSON body — report, progress and `POST /ota/device/version` — after the caller is authorised and
//! before the body is read. Without it the body is not read as JSON, so the answer is the endpoint's own
//! errno for an unreadable body: 24 for report and progress, 2 for the version report. GETs carry no
//! body and are served with or without it (OneNET's C SDK sends none on its GETs).

mod admin;
pub mod auth;
mod autonomous;
mod check;
mod download;
mod flow;
mod listing;
pub mod range;
mod sandbox;
pub mod tasks;
mod version;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::Query;
use axum::http::{header, HeaderMap};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

use crate::fleet::{Cloud, Device};
use crate::gateway::CloudReply;
use crate::log::{CallInfo, Outcome};
use crate::world::{Sim, World};
use tasks::{Task, TaskState, APPLICATION, MODULE};

pub(crate) use autonomous::settle as settle_autonomous;
pub(crate) use sandbox::seed_default_tasks;
pub use tasks::OnenetState;

const CHECK: &str = "/ota/south/check";
const TASKING: &str = "/ota/south/tasking";
const TOKEN_CHECK: &str = "/ota/south/download/{token}/check";
const DOWNLOAD: &str = "/ota/south/download/{token}";
const PROGRESS: &str = "/ota/south/device/download/{token}/progress";
const REPORT: &str = "/ota/south/report";
const VERSION: &str = "/ota/device/version";

/// errno values of the device-side API (seed and shared notes).
pub mod errno {
    pub const OK: i64 = 0;
    pub const AUTH: i64 = 1;
    pub const PARAMS: i64 = 2;
    pub const NO_TOKEN: i64 = 4;
    pub const INTERNAL: i64 = 7;
    pub const MANUF_MODEL: i64 = 8;
    pub const DIFF_VERSION: i64 = 9;
    pub const NO_TASK: i64 = 11;
    pub const TOKEN_EXPIRED: i64 = 12;
    pub const INVALID_STATE: i64 = 17;
    pub const FINISHED: i64 = 20;
    pub const INVALID_OPERATION: i64 = 21;
    pub const CANCELLED: i64 = 22;
    pub const BAD_RESULT: i64 = 24;
    pub const VERSION_FORMAT: i64 = 27;
}

fn error_text(code: i64) -> &'static str {
    match code {
        errno::OK => "succ",
        errno::AUTH => "auth failed",
        errno::PARAMS => "params error",
        errno::NO_TOKEN => "token not found",
        errno::INTERNAL => "internal error",
        errno::MANUF_MODEL => "manuf or model not match",
        errno::DIFF_VERSION => "version not match",
        errno::NO_TASK => "no task",
        errno::TOKEN_EXPIRED => "token expired",
        errno::INVALID_STATE => "invalid state",
        errno::FINISHED => "task finished",
        errno::INVALID_OPERATION => "invalid operation",
        errno::CANCELLED => "task cancelled",
        errno::BAD_RESULT => "result error",
        errno::VERSION_FORMAT => "version format error",
        _ => "error",
    }
}

#[derive(Debug, Serialize)]
struct Envelope<T> {
    errno: i64,
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<T>,
}

/// errno 0, with `data` when there is some.
fn ok_reply(data: Option<impl Serialize>) -> CloudReply {
    CloudReply::json(
        &Envelope {
            errno: errno::OK,
            error: error_text(errno::OK),
            data,
        },
        Outcome::Ok,
    )
}

fn fail(code: i64) -> CloudReply {
    CloudReply::json(
        &Envelope::<()> {
            errno: code,
            error: error_text(code),
            data: None,
        },
        Outcome::Error(code),
    )
}

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route(CHECK, get(check::check))
        .route(TASKING, get(check::tasking))
        .route(TOKEN_CHECK, get(flow::token_check))
        .route(DOWNLOAD, get(download::download))
        .route(PROGRESS, post(flow::progress))
        .route(REPORT, post(flow::report))
        .route(VERSION, get(version::read).post(version::write))
        .merge(admin::routes())
        .merge(listing::routes())
}

type Params = Query<HashMap<String, String>>;

/// True when the request says its body is JSON: `Content-Type: application/json`, in any letter case,
/// with or without parameters such as `; charset=UTF-8`.
fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// A query parameter, trimmed; absent when empty.
fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// `dev_id`, when it is a number (OneNET device ids are).
fn dev_id_of(params: &HashMap<String, String>) -> Option<String> {
    param(params, "dev_id")
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

/// `type`: 1 (module) or 2 (application); `fallback` when absent; None when invalid.
fn task_type_of(params: &HashMap<String, String>, fallback: Option<u8>) -> Option<u8> {
    match param(params, "type") {
        Some("1") => Some(MODULE),
        Some("2") => Some(APPLICATION),
        Some(_) => None,
        None => fallback,
    }
}

fn call(endpoint: &'static str, dev_id: Option<&str>) -> CallInfo {
    CallInfo {
        cloud: Cloud::Onenet,
        endpoint,
        target: dev_id.map(str::to_string),
    }
}

/// The OneNET device `dev_id`, when `auth` is a valid token of its product (`res=products/{pid}`,
/// or `products/{pid}/devices/{device name}` signed with the product key). Errno 1 otherwise: unknown
/// device, missing, tampered, expired or misdirected token.
/// The calling device, for a call that must name one (`dev_id`, errno 2 otherwise) and carry a valid
/// token of its product (errno 1 otherwise); the refusal is the answer to send.
fn caller(world: &World, dev_id: Option<&str>, auth: Option<&str>) -> Result<Device, CloudReply> {
    let dev_id = dev_id.ok_or_else(|| fail(errno::PARAMS))?;
    authorize(world, dev_id, auth).map_err(fail)
}

fn authorize(world: &World, dev_id: &str, auth: Option<&str>) -> Result<Device, i64> {
    let device = world
        .device(dev_id)
        .filter(|d| d.cloud == Cloud::Onenet)
        .ok_or(errno::AUTH)?;
    let product_id = device.product_key.as_deref().ok_or(errno::AUTH)?;
    let product = world.fleet.onenet_product(product_id).ok_or(errno::AUTH)?;
    let token = auth.ok_or(errno::AUTH)?;
    let now =
        crate::clock::unix_secs() + crate::onenet::listing::clock_skew_secs(world, Some(dev_id));
    let product_res = format!("products/{product_id}");
    let device_res = format!("{product_res}/devices/{}", device.name);
    let accepted = [product_res, device_res]
        .iter()
        .any(|res| auth::verify(token, &product.access_key, res, now).is_ok());
    if accepted {
        Ok(device.clone())
    } else {
        tracing::debug!(dev_id, "onenet device-side token refused");
        Err(errno::AUTH)
    }
}

/// errno for a task that is over: 20 done (succeeded or failed), 22 cancelled.
fn finished_errno(state: TaskState) -> Option<i64> {
    match state {
        TaskState::Succeeded | TaskState::Failed => Some(errno::FINISHED),
        TaskState::Cancelled => Some(errno::CANCELLED),
        _ => None,
    }
}

/// A task that just succeeded leaves its device on the target: the application version is the
/// fleet's `firmware`, the module version is kept beside it.
fn on_success(world: &mut World, task_id: u64) {
    let Some(task) = world.onenet.task(task_id) else {
        return;
    };
    if task.state != TaskState::Succeeded {
        return;
    }
    let (dev_id, target, task_type) = (
        task.spec.dev_id.clone(),
        task.spec.target.clone(),
        task.spec.task_type,
    );
    set_version(world, &dev_id, task_type, target);
}

/// Records that device `dev_id` runs `version` as its module (1) or application (2).
fn set_version(world: &mut World, dev_id: &str, task_type: u8, version: String) {
    if task_type == MODULE {
        world
            .onenet
            .module_versions
            .insert(dev_id.to_string(), version);
    } else if let Some(device) = world.device_mut(dev_id) {
        device.firmware = version;
    }
}

/// Completes the device's open task of `task_type` when its target is `version` (the device says it
/// already runs it). True when one was completed.
fn complete_if_on_target(world: &mut World, dev_id: &str, task_type: u8, version: &str) -> bool {
    let now = world.now_ms();
    let Some(task) = world.onenet.open_task_mut(dev_id, task_type) else {
        return false;
    };
    if task.spec.target != version {
        return false;
    }
    task.set_state(TaskState::Succeeded, now);
    let id = task.id;
    on_success(world, id);
    true
}

/// The task's `data` in check and tasking answers (field names and types as in the seed).
#[derive(Debug, Serialize)]
struct TaskData {
    target: String,
    token: String,
    size: u64,
    md5: String,
    signal: i64,
    power: i64,
    retry: i64,
    interval: i64,
    /// 1 full package, 2 difference package.
    #[serde(rename = "type")]
    package_kind: u8,
    #[serde(rename = "ipPort", skip_serializing_if = "Option::is_none")]
    ip_port: Option<String>,
}

fn task_data(task: &Task, ip_port: Option<String>) -> TaskData {
    TaskData {
        target: task.spec.target.clone(),
        token: task.token.clone(),
        size: task.size(),
        md5: task.package.md5.clone(),
        signal: task.spec.signal,
        power: task.spec.power,
        retry: task.spec.retry,
        interval: task.spec.interval,
        package_kind: task.spec.package_kind,
        ip_port,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_body_is_declared_by_its_media_type() {
        let with = |value: Option<&str>| {
            let mut headers = HeaderMap::new();
            if let Some(value) = value {
                headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            }
            declares_json(&headers)
        };
        for yes in [
            "application/json",
            "application/json;charset=UTF-8",
            "Application/JSON ; charset=utf-8",
        ] {
            assert!(with(Some(yes)), "{yes}");
        }
        for no in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/json-patch+json"),
            Some("text/json"),
        ] {
            assert!(!with(no), "{no:?}");
        }
    }
}
