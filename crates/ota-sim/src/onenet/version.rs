//! `POST /ota/device/version?dev_id=` `{"f_version", "s_version"}` (either or both) and
//! `GET /ota/device/version?dev_id=`. The application version (`s_version`) is the fleet's `firmware`
//! (what `/_sim/devices` and the sandbox listing show); the module version (`f_version`) is kept
//! beside it and is null until reported or until a module task succeeds. Reporting a version
//! completes the device's open task of that kind whose target it is.
//!
//! errno: 2 no dev_id; 1 auth; 2 (POST) no `Content-Type: application/json`, or a body that is not a
//! JSON object with at least one of the two as a string; 27 a version not `[A-Za-z0-9_.-]{1,20}`;
//! else 0 (GET: `data{f_version, s_version}`). The GET carries no body and needs no Content-Type.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::tasks::{valid_version, APPLICATION, MODULE};
use super::{
    call, caller, complete_if_on_target, declares_json, dev_id_of, errno, fail, ok_reply,
    set_version, Params, VERSION,
};
use crate::gateway;
use crate::world::Sim;

#[derive(Debug, Serialize)]
struct VersionData {
    f_version: Option<String>,
    s_version: String,
}

pub async fn read(
    State(sim): State<Arc<Sim>>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    let auth = gateway::authorization(&headers);
    let dev_id = dev_id_of(&params);
    gateway::serve(&sim, call(VERSION, dev_id.as_deref()), |world| {
        let device = match caller(world, dev_id.as_deref(), auth.as_deref()) {
            Ok(device) => device,
            Err(refusal) => return refusal,
        };
        let dev_id = device.id.clone();
        ok_reply(Some(VersionData {
            f_version: world.onenet.module_versions.get(&dev_id).cloned(),
            s_version: device.firmware,
        }))
    })
    .await
}

pub async fn write(
    State(sim): State<Arc<Sim>>,
    Query(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = gateway::authorization(&headers);
    let json_body = declares_json(&headers);
    let dev_id = dev_id_of(&params);
    gateway::serve(&sim, call(VERSION, dev_id.as_deref()), |world| {
        let dev_id = match caller(world, dev_id.as_deref(), auth.as_deref()) {
            Ok(device) => device.id,
            Err(refusal) => return refusal,
        };
        if !json_body {
            return fail(errno::PARAMS);
        }
        let Ok(value) = serde_json::from_slice::<Value>(&body) else {
            return fail(errno::PARAMS);
        };
        let text = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .map(|v| v.trim().to_string())
        };
        let reported = [
            (MODULE, text("f_version")),
            (APPLICATION, text("s_version")),
        ];
        if reported.iter().all(|(_, v)| v.is_none()) {
            return fail(errno::PARAMS);
        }
        if reported
            .iter()
            .any(|(_, v)| v.as_deref().is_some_and(|v| !valid_version(v)))
        {
            return fail(errno::VERSION_FORMAT);
        }
        for (task_type, version) in reported {
            if let Some(version) = version {
                complete_if_on_target(world, &dev_id, task_type, &version);
                set_version(world, &dev_id, task_type, version);
            }
        }
        ok_reply(None::<()>)
    })
    .await
}
