//! `GET /ota/south/check` (is there a task for me?) and `GET /ota/south/tasking` (the task I am in
//! the middle of). Both answer the seed's `data`, plus `ipPort` (this server's own `ip:port`, where
//! the package downloads from) when `cdn=true`.
//!
//! check, in this order: 2 no numeric dev_id; 1 auth / unknown device; 2 type missing or not 1|2;
//! 27 version not `[A-Za-z0-9_.-]{1,20}`; 11 no unfinished, unpaused task of the type; 8 manuf or model
//! sent and different from the task's (task fails); 9 diff package and version sent and not the
//! package's `from_version` (task fails); 11 version sent equals the target (task succeeds); else 0.
//! manuf, model and version are optional: OneNET's C SDK sends `type=1&cdn=true` without them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;

use super::tasks::{valid_version, TaskState, DIFF, TOKEN_TTL_MS};
use super::{
    call, caller, complete_if_on_target, dev_id_of, errno, fail, ok_reply, param, task_data,
    task_type_of, Params, CHECK, TASKING,
};
use crate::gateway::{self, CloudReply};
use crate::world::{Sim, World};
use crate::LocalAddr;

/// `ipPort` for `cdn=true`: the address the request came in on, else its Host.
fn ip_port(
    params: &HashMap<String, String>,
    local: Option<Extension<LocalAddr>>,
    headers: &HeaderMap,
) -> Option<String> {
    let cdn = param(params, "cdn").is_some_and(|c| c.eq_ignore_ascii_case("true"));
    if !cdn {
        return None;
    }
    let host = || {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.trim().to_string())
    };
    Some(
        local
            .map(|Extension(LocalAddr(addr))| addr.to_string())
            .or_else(host)
            .unwrap_or_else(|| "ota.heclouds.com:80".into()),
    )
}

pub async fn check(
    State(sim): State<Arc<Sim>>,
    Query(params): Params,
    local: Option<Extension<LocalAddr>>,
    headers: HeaderMap,
) -> Response {
    let auth = gateway::authorization(&headers);
    let dev_id = dev_id_of(&params);
    let ip_port = ip_port(&params, local, &headers);
    gateway::serve(&sim, call(CHECK, dev_id.as_deref()), |world| {
        let dev_id = match caller(world, dev_id.as_deref(), auth.as_deref()) {
            Ok(device) => device.id,
            Err(refusal) => return refusal,
        };
        let Some(task_type) = task_type_of(&params, None) else {
            return fail(errno::PARAMS);
        };
        let version = param(&params, "version");
        if version.is_some_and(|v| !valid_version(v)) {
            return fail(errno::VERSION_FORMAT);
        }
        let sent = Sent {
            manuf: param(&params, "manuf"),
            model: param(&params, "model"),
            version,
        };
        find_task(world, &dev_id, task_type, &sent, ip_port)
    })
    .await
}

/// What the device said about itself on a check.
struct Sent<'a> {
    manuf: Option<&'a str>,
    model: Option<&'a str>,
    version: Option<&'a str>,
}

fn find_task(
    world: &mut World,
    dev_id: &str,
    task_type: u8,
    sent: &Sent,
    ip_port: Option<String>,
) -> CloudReply {
    let now = world.now_ms();
    let Some(task) = world
        .onenet
        .open_task_mut(dev_id, task_type)
        .filter(|t| t.state != TaskState::Paused)
    else {
        return fail(errno::NO_TASK);
    };
    let spec = &task.spec;
    if sent.manuf.is_some_and(|m| m != spec.manuf) || sent.model.is_some_and(|m| m != spec.model) {
        task.set_state(TaskState::Failed, now);
        return fail(errno::MANUF_MODEL);
    }
    if spec.package_kind == DIFF
        && sent
            .version
            .is_some_and(|v| Some(v) != spec.from_version.as_deref())
        && sent.version != Some(spec.target.as_str())
    {
        task.set_state(TaskState::Failed, now);
        return fail(errno::DIFF_VERSION);
    }
    if let Some(version) = sent.version {
        if complete_if_on_target(world, dev_id, task_type, version) {
            return fail(errno::NO_TASK);
        }
    }
    let expired = world
        .onenet
        .open_task(dev_id, task_type)
        .is_some_and(|t| t.token_expired(now));
    let fresh = expired.then(|| format!("ota_{}", world.mint.mint(20)));
    let Some(task) = world.onenet.open_task_mut(dev_id, task_type) else {
        return fail(errno::INTERNAL);
    };
    if let Some(token) = fresh {
        // A task older than its token gets a new one (two more days).
        task.token = token;
        task.token_expires_ms = now + TOKEN_TTL_MS;
    }
    ok_reply(Some(task_data(task, ip_port)))
}

/// tasking: 2 no dev_id or bad type (absent = 2); 1 auth; 11 no unfinished task of the type; 4 the
/// task's token was not checked yet (pending) or it is paused; 12 token expired; else 0 with `data`.
pub async fn tasking(
    State(sim): State<Arc<Sim>>,
    Query(params): Params,
    local: Option<Extension<LocalAddr>>,
    headers: HeaderMap,
) -> Response {
    let auth = gateway::authorization(&headers);
    let dev_id = dev_id_of(&params);
    let ip_port = ip_port(&params, local, &headers);
    gateway::serve(&sim, call(TASKING, dev_id.as_deref()), |world| {
        let dev_id = match caller(world, dev_id.as_deref(), auth.as_deref()) {
            Ok(device) => device.id,
            Err(refusal) => return refusal,
        };
        let Some(task_type) = task_type_of(&params, Some(super::APPLICATION)) else {
            return fail(errno::PARAMS);
        };
        let now = world.now_ms();
        let Some(task) = world.onenet.open_task(&dev_id, task_type) else {
            return fail(errno::NO_TASK);
        };
        if !matches!(task.state, TaskState::Downloading | TaskState::Upgrading) {
            return fail(errno::NO_TOKEN);
        }
        if task.token_expired(now) {
            return fail(errno::TOKEN_EXPIRED);
        }
        ok_reply(Some(task_data(task, ip_port)))
    })
    .await
}
