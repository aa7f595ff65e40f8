//! Quectel OTA: manual upgrade plans for MQTT devices (confirm / appoint / cancel / retry), the user
//! auto-confirmation switch, and the Bluetooth flow where the app carries the package. Plans are made
//! through `POST /_sim/quectel/plans` (no public management API is known).
//!
//! Each device of a plan has a small state machine, evaluated lazily on the simulated clock like every
//! other run in the simulator: a confirmed MQTT device upgrades in [`UPGRADE_MS`] of simulated time; an
//! appointed one starts when its window opens; the `quectel_upgrade_fail` fault makes it fail halfway.
//! Plan times are milliseconds since the Unix epoch on the simulator's own wall clock (the real time it
//! started plus simulated time), so `POST /_sim/clock` moves them too.
//!
//! Every accepted `userBatchConfirmUpgrade` item with operType 1, 2 or 5 (in `successList`) counts as one
//! start of its device in `GET /_sim/starts`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::faults::{FaultBook, FaultKind};
use crate::fleet::{Cloud, SplitMix64, Transport};
use crate::gateway::{self, CloudReply};
use crate::log::CallInfo;
use crate::quectel::{admit, failure, parameters, parse_urlencoded, reply, BAD_REQUEST, OK};
use crate::world::{Sim, World};

// The simulator's own copy of the paths (never imported from the client).
const GET_PLAN: &str = "/v2/quecota/enduserapi/v2/getDeviceUpgradePlan";
const BATCH_CONFIRM: &str = "/v2/quecota/enduserapi/v2/userBatchConfirmUpgrade";
const BATCH_DETAILS: &str = "/v2/quecota/enduserapi/v2/getBatchUpgradeDetails";
const SET_AUTO: &str = "/v2/quecota/enduserapi/setAutoUpgradeSwitch";
const GET_AUTO: &str = "/v2/quecota/enduserapi/getAutoUpgradeSwitch";
const DELETE_AUTO: &str = "/v2/quecota/enduserapi/deleteDeviceUpgrade";
const FETCH_PLAN: &str = "/v2/quecota/enduserapi/getFetchPlan";
const REPORT_STATUS: &str = "/v2/quecota/enduserapi/reportUpgradeStatus";
const CREATE_PLAN: &str = "/_sim/quectel/plans";
const PACKAGE: &str = "/_sim/quectel/packages/{plan_id}";

/// Simulated time a confirmed MQTT device needs to finish its upgrade.
pub const UPGRADE_MS: f64 = 60_000.0;
/// Where a doomed upgrade stops.
pub const FAIL_AT: f64 = 0.5;
const HOUR_MS: i64 = 3_600_000;
/// The shortest appointment the cloud accepts.
pub const MIN_APPOINTMENT_MS: i64 = HOUR_MS;
const DEFAULT_PERIOD_BEFORE_MS: i64 = HOUR_MS;
const DEFAULT_PERIOD_AFTER_MS: i64 = 7 * 24 * HOUR_MS;
const PACKAGE_BYTES: usize = 48 * 1024;
const FIRST_PLAN_ID: i64 = 7_310_000_001;

const NOT_FOUND: i64 = 404;
const CONFLICT: i64 = 409;

// deviceStatus.
const ALREADY_LATEST: i32 = -1;
const NOT_UPGRADED: i32 = 0;
const UPGRADING: i32 = 1;
const SUCCEEDED: i32 = 2;
const FAILED: i32 = 3;

// userConfirmStatus.
const UNCONFIRMED: i32 = 0;
const UPGRADE_NOW: i32 = 1;
const APPOINTED: i32 = 2;
const CANCELLED: i32 = 3;

// operType.
const OPER_NOW: i64 = 1;
const OPER_APPOINT: i64 = 2;
const OPER_CANCEL: i64 = 3;
const OPER_RETRY: i64 = 5;

fn device_status_desc(status: i32) -> &'static str {
    match status {
        ALREADY_LATEST => "already the latest version",
        NOT_UPGRADED => "not upgraded",
        UPGRADING => "upgrading",
        SUCCEEDED => "upgrade succeeded",
        FAILED => "upgrade failed",
        _ => "unknown",
    }
}

fn confirm_status_desc(status: i32) -> &'static str {
    match status {
        UNCONFIRMED => "unconfirmed",
        UPGRADE_NOW => "upgrade now",
        APPOINTED => "appointed",
        CANCELLED => "cancelled",
        4 => "result acknowledged",
        _ => "unknown",
    }
}

/// One device's part in a plan.
#[derive(Debug, Clone)]
struct DevicePlan {
    product_key: String,
    /// Bluetooth devices are upgraded by the app; only its reports move them.
    ble: bool,
    status: i32,
    confirm: i32,
    appoint: Option<(i64, i64)>,
    auto: bool,
    /// Wall ms at which a waiting device starts by itself (appointment or auto mode).
    scheduled: Option<f64>,
    started: Option<f64>,
    doomed: bool,
    progress: f64,
}

impl DevicePlan {
    fn start(&mut self, at: f64, faults: &mut FaultBook, device_key: &str) {
        self.status = UPGRADING;
        self.started = Some(at);
        self.scheduled = None;
        self.progress = 0.0;
        self.doomed = faults.hit(FaultKind::QuectelUpgradeFail, Some(device_key));
    }
}

#[derive(Debug, Clone)]
struct Plan {
    id: i64,
    name: String,
    target: String,
    start: i64,
    end: i64,
    com_type: i32,
    devices: BTreeMap<String, DevicePlan>,
    package: Vec<u8>,
}

impl Plan {
    fn in_period(&self, wall: f64) -> bool {
        wall >= self.start as f64 && wall <= self.end as f64
    }

    fn file_name(&self) -> String {
        format!("{}_{}.bin", self.name.replace([' ', '/'], "_"), self.target)
    }
}

pub struct OtaState {
    /// Real Unix ms when the simulator started: simulated wall time = this + simulated ms.
    epoch_ms: f64,
    next_id: i64,
    plans: Vec<Plan>,
    /// deviceKeys in user auto-confirmation mode.
    auto: HashSet<String>,
}

impl Default for OtaState {
    fn default() -> Self {
        Self {
            epoch_ms: crate::clock::unix_ms() as f64,
            next_id: FIRST_PLAN_ID,
            plans: Vec::new(),
            auto: HashSet::new(),
        }
    }
}

impl OtaState {
    /// The newest plan naming this device.
    fn latest_for(&self, device_key: &str) -> Option<&Plan> {
        self.plans
            .iter()
            .rev()
            .find(|p| p.devices.contains_key(device_key))
    }

    /// The newest plan still open for this device (for the Bluetooth flow).
    fn open_for(&mut self, device_key: &str) -> Option<&mut Plan> {
        self.plans.iter_mut().rev().find(|p| {
            p.devices.get(device_key).is_some_and(|d| {
                matches!(d.status, NOT_UPGRADED | UPGRADING) && d.confirm != CANCELLED
            })
        })
    }
}

fn wall_ms(world: &World) -> f64 {
    world.quectel.ota.epoch_ms + world.now_ms()
}

/// Moves every device plan along to simulated time `now` (ms since start); finished upgrades change the
/// device's firmware. Called from [`World::settle_at`].
pub fn settle(world: &mut World, now: f64) {
    let wall = world.quectel.ota.epoch_ms + now;
    let mut finished = Vec::new();
    {
        let World {
            quectel, faults, ..
        } = world;
        for plan in &mut quectel.ota.plans {
            for (key, device) in plan.devices.iter_mut() {
                if device.ble {
                    continue;
                }
                if device.status == NOT_UPGRADED {
                    if let Some(at) = device.scheduled.filter(|at| wall >= *at) {
                        device.start(at, faults, key);
                    }
                }
                if device.status == UPGRADING {
                    let started = device.started.unwrap_or(wall);
                    let progress = ((wall - started) / UPGRADE_MS).clamp(0.0, 1.0);
                    if device.doomed && progress >= FAIL_AT {
                        device.status = FAILED;
                        device.progress = FAIL_AT;
                    } else if progress >= 1.0 {
                        device.status = SUCCEEDED;
                        device.progress = 1.0;
                        finished.push((key.clone(), plan.target.clone()));
                    } else {
                        device.progress = progress;
                    }
                }
            }
        }
    }
    for (key, firmware) in finished {
        if let Some(device) = world.device_mut(&key) {
            device.firmware = firmware;
        }
    }
}

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route(GET_PLAN, get(get_plan))
        .route(BATCH_CONFIRM, post(batch_confirm))
        .route(BATCH_DETAILS, post(batch_details))
        .route(SET_AUTO, post(set_auto))
        .route(GET_AUTO, get(get_auto))
        .route(DELETE_AUTO, post(delete_auto))
        .route(FETCH_PLAN, get(fetch_plan))
        .route(REPORT_STATUS, post(report_status))
        .route(CREATE_PLAN, post(create_plan))
        .route(PACKAGE, get(package))
}

fn call(endpoint: &'static str, target: Option<&str>) -> CallInfo {
    CallInfo {
        cloud: Cloud::Quectel,
        endpoint,
        target: target.map(str::to_string),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ComVer {
    com_type: i32,
    tver: String,
}

/// A plan as `getDeviceUpgradePlan` and `getBatchUpgradeDetails` show it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanView {
    plan_id: i64,
    plan_name: String,
    product_key: String,
    device_key: String,
    version_info: String,
    data_type: i32,
    plan_start_time: i64,
    plan_end_time: i64,
    appoint_start_time: Option<i64>,
    appoint_end_time: Option<i64>,
    device_status: i32,
    user_confirm_status: i32,
    device_status_desc: &'static str,
    user_confirm_status_desc: &'static str,
    com_ver_list: Vec<ComVer>,
    auto_upgrade: bool,
    upgrade_progress: f64,
}

fn plan_view(plan: &Plan, key: &str, device: &DevicePlan) -> PlanView {
    PlanView {
        plan_id: plan.id,
        plan_name: plan.name.clone(),
        product_key: device.product_key.clone(),
        device_key: key.to_string(),
        version_info: plan.target.clone(),
        data_type: 1,
        plan_start_time: plan.start,
        plan_end_time: plan.end,
        appoint_start_time: device.appoint.map(|a| a.0),
        appoint_end_time: device.appoint.map(|a| a.1),
        device_status: device.status,
        user_confirm_status: device.confirm,
        device_status_desc: device_status_desc(device.status),
        user_confirm_status_desc: confirm_status_desc(device.confirm),
        com_ver_list: vec![ComVer {
            com_type: plan.com_type,
            tver: plan.target.clone(),
        }],
        auto_upgrade: device.auto,
        upgrade_progress: (device.progress * 1000.0).round() / 1000.0,
    }
}

fn param<'a>(params: &'a HashMap<String, String>, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| params.get(*n))
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

/// The device named by `productKey`/`deviceKey` (or `pk`/`dk`), checked against the fleet.
fn named_device(
    world: &World,
    params: &HashMap<String, String>,
) -> Result<(String, String), CloudReply> {
    let (Some(pk), Some(dk)) = (
        param(params, &["productKey", "pk"]),
        param(params, &["deviceKey", "dk"]),
    ) else {
        return Err(failure(
            BAD_REQUEST,
            "productKey and deviceKey are required",
        ));
    };
    match world.device(dk) {
        Some(d) if d.cloud == Cloud::Quectel && d.product_key.as_deref() == Some(pk) => {
            Ok((pk.to_string(), dk.to_string()))
        }
        _ => Err(failure(NOT_FOUND, "device not found")),
    }
}

fn query_params(query: Option<&str>) -> HashMap<String, String> {
    query.map(parse_urlencoded).unwrap_or_default()
}

fn target_of(params: &HashMap<String, String>) -> Option<String> {
    param(params, &["deviceKey", "dk"]).map(str::to_string)
}

async fn get_plan(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let auth = gateway::authorization(&headers);
    let params = query_params(query.as_deref());
    let target = target_of(&params);
    gateway::serve(&sim, call(GET_PLAN, target.as_deref()), |world| {
        if let Err(answer) = admit(world, auth.as_deref()) {
            return answer;
        }
        world.settle();
        let (_, dk) = match named_device(world, &params) {
            Ok(named) => named,
            Err(answer) => return answer,
        };
        let view = world
            .quectel
            .ota
            .latest_for(&dk)
            .and_then(|plan| plan.devices.get(&dk).map(|d| plan_view(plan, &dk, d)));
        reply(OK, "success", view)
    })
    .await
}

/// One item of `userBatchConfirmUpgrade`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmItem {
    #[serde(default)]
    product_key: String,
    #[serde(default)]
    device_key: String,
    #[serde(default)]
    plan_id: i64,
    #[serde(default)]
    oper_type: i64,
    #[serde(default)]
    appoint_start_time: Option<i64>,
    #[serde(default)]
    appoint_end_time: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemResult {
    plan_id: i64,
    product_key: String,
    device_key: String,
    code: i64,
    msg: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchResult {
    success_list: Vec<ItemResult>,
    fail_list: Vec<ItemResult>,
}

/// The JSON array body, or the reply refusing it.
fn array_body(body: &[u8]) -> Result<Vec<Value>, CloudReply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => Ok(items),
        _ => Err(failure(BAD_REQUEST, "the body must be a JSON array")),
    }
}

/// The single device a batch names, for the call log and device-targeted faults.
fn batch_target(items: &[Value]) -> Option<String> {
    match items {
        [one] => one
            .get("deviceKey")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

fn apply(
    plans: &mut [Plan],
    faults: &mut FaultBook,
    item: &ConfirmItem,
    wall: f64,
) -> Result<(), (i64, String)> {
    let plan = plans
        .iter_mut()
        .find(|p| p.id == item.plan_id)
        .ok_or_else(|| (NOT_FOUND, format!("no upgrade plan {}", item.plan_id)))?;
    let (start, end) = (plan.start, plan.end);
    let in_period = plan.in_period(wall);
    let device = plan
        .devices
        .get_mut(&item.device_key)
        .filter(|d| d.product_key == item.product_key)
        .ok_or_else(|| (NOT_FOUND, "the device is not part of this plan".to_string()))?;
    let waiting = || -> Result<(), (i64, String)> {
        if device.confirm == CANCELLED {
            return Err((CONFLICT, "the plan was cancelled for this device".into()));
        }
        match device.status {
            NOT_UPGRADED => Ok(()),
            ALREADY_LATEST => Err((
                CONFLICT,
                "the device already runs the latest version".into(),
            )),
            UPGRADING => Err((CONFLICT, "the device is already upgrading".into())),
            SUCCEEDED => Err((CONFLICT, "the device was already upgraded".into())),
            _ => Err((CONFLICT, "the upgrade failed; retry it instead".into())),
        }
    };
    match item.oper_type {
        OPER_NOW => {
            waiting()?;
            if !in_period {
                return Err((BAD_REQUEST, "the plan period is not in effect now".into()));
            }
            device.confirm = UPGRADE_NOW;
            device.appoint = None;
            device.start(wall, faults, &item.device_key);
        }
        OPER_APPOINT => {
            waiting()?;
            let (Some(a_start), Some(a_end)) = (item.appoint_start_time, item.appoint_end_time)
            else {
                return Err((
                    BAD_REQUEST,
                    "appointStartTime and appointEndTime are required".into(),
                ));
            };
            if a_start < start || a_end > end {
                return Err((
                    BAD_REQUEST,
                    "the appointed period must lie inside the plan period".into(),
                ));
            }
            if a_end - a_start < MIN_APPOINTMENT_MS {
                return Err((
                    BAD_REQUEST,
                    "the appointed period must be at least 1 hour long".into(),
                ));
            }
            if (a_end as f64) <= wall {
                return Err((BAD_REQUEST, "the appointed period is already over".into()));
            }
            device.confirm = APPOINTED;
            device.appoint = Some((a_start, a_end));
            device.scheduled = Some((a_start as f64).max(wall));
        }
        OPER_CANCEL => {
            waiting()?;
            device.status = FAILED;
            device.confirm = CANCELLED;
            device.scheduled = None;
        }
        OPER_RETRY => {
            if device.status != FAILED || device.confirm == CANCELLED {
                return Err((
                    CONFLICT,
                    "retry is only possible after a failed upgrade".into(),
                ));
            }
            device.confirm = UPGRADE_NOW;
            device.start(wall, faults, &item.device_key);
        }
        other => {
            return Err((
                BAD_REQUEST,
                format!("operType {other} is not one of 1, 2, 3, 5"),
            ))
        }
    }
    Ok(())
}

async fn batch_confirm(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = gateway::authorization(&headers);
    let items = array_body(&body);
    let target = items.as_ref().ok().and_then(|i| batch_target(i));
    gateway::serve(&sim, call(BATCH_CONFIRM, target.as_deref()), |world| {
        if let Err(answer) = admit(world, auth.as_deref()) {
            return answer;
        }
        let items = match items {
            Ok(items) => items,
            Err(answer) => return answer,
        };
        world.settle();
        let wall = wall_ms(world);
        let mut result = BatchResult {
            success_list: Vec::new(),
            fail_list: Vec::new(),
        };
        let World {
            quectel,
            faults,
            starts,
            ..
        } = world;
        for raw in items {
            let item = match ConfirmItem::deserialize(&raw) {
                Ok(item) => item,
                Err(err) => {
                    result.fail_list.push(ItemResult {
                        plan_id: raw.get("planId").and_then(Value::as_i64).unwrap_or(0),
                        product_key: String::new(),
                        device_key: String::new(),
                        code: BAD_REQUEST,
                        msg: format!("invalid item: {err}"),
                    });
                    continue;
                }
            };
            let outcome = apply(&mut quectel.ota.plans, faults, &item, wall);
            let (code, msg) = match &outcome {
                Ok(()) => (OK, "success".to_string()),
                Err((code, msg)) => (*code, msg.clone()),
            };
            let entry = ItemResult {
                plan_id: item.plan_id,
                product_key: item.product_key,
                device_key: item.device_key,
                code,
                msg,
            };
            if outcome.is_ok() {
                if matches!(item.oper_type, OPER_NOW | OPER_APPOINT | OPER_RETRY) {
                    starts.count(Cloud::Quectel, &entry.device_key);
                }
                result.success_list.push(entry);
            } else {
                result.fail_list.push(entry);
            }
        }
        reply(OK, "success", Some(result))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetailItem {
    #[serde(default)]
    product_key: String,
    #[serde(default)]
    device_key: String,
    #[serde(default)]
    plan_id: i64,
}

async fn batch_details(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = gateway::authorization(&headers);
    let items = array_body(&body);
    let target = items.as_ref().ok().and_then(|i| batch_target(i));
    gateway::serve(&sim, call(BATCH_DETAILS, target.as_deref()), |world| {
        if let Err(answer) = admit(world, auth.as_deref()) {
            return answer;
        }
        let items = match items {
            Ok(items) => items,
            Err(answer) => return answer,
        };
        world.settle();
        let views: Vec<PlanView> = items
            .iter()
            .filter_map(|raw| DetailItem::deserialize(raw).ok())
            .filter_map(|item| {
                let plan = world
                    .quectel
                    .ota
                    .plans
                    .iter()
                    .find(|p| p.id == item.plan_id)?;
                let device = plan
                    .devices
                    .get(&item.device_key)
                    .filter(|d| d.product_key == item.product_key)?;
                Some(plan_view(plan, &item.device_key, device))
            })
            .collect();
        reply(OK, "success", Some(views))
    })
    .await
}

fn truthy(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" => Some(true),
        "false" | "0" | "off" => Some(false),
        _ => None,
    }
}

async fn set_auto(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = gateway::authorization(&headers);
    let params = parameters(query.as_deref(), &headers, &body);
    let target = target_of(&params);
    gateway::serve(&sim, call(SET_AUTO, target.as_deref()), |world| {
        if let Err(answer) = admit(world, auth.as_deref()) {
            return answer;
        }
        let (_, dk) = match named_device(world, &params) {
            Ok(named) => named,
            Err(answer) => return answer,
        };
        let Some(on) = param(&params, &["autoUpgrade", "switch", "enable"]).and_then(truthy) else {
            return failure(BAD_REQUEST, "autoUpgrade must be true or false");
        };
        if on {
            world.quectel.ota.auto.insert(dk);
        } else {
            world.quectel.ota.auto.remove(&dk);
        }
        reply::<()>(OK, "success", None)
    })
    .await
}

async fn get_auto(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let auth = gateway::authorization(&headers);
    let params = query_params(query.as_deref());
    let target = target_of(&params);
    gateway::serve(&sim, call(GET_AUTO, target.as_deref()), |world| {
        if let Err(answer) = admit(world, auth.as_deref()) {
            return answer;
        }
        let (pk, dk) = match named_device(world, &params) {
            Ok(named) => named,
            Err(answer) => return answer,
        };
        let on = world.quectel.ota.auto.contains(&dk);
        reply(
            OK,
            "success",
            Some(json!({"productKey": pk, "deviceKey": dk, "autoUpgrade": on})),
        )
    })
    .await
}

async fn delete_auto(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = gateway::authorization(&headers);
    let params = parameters(query.as_deref(), &headers, &body);
    let target = target_of(&params);
    gateway::serve(&sim, call(DELETE_AUTO, target.as_deref()), |world| {
        if let Err(answer) = admit(world, auth.as_deref()) {
            return answer;
        }
        let (_, dk) = match named_device(world, &params) {
            Ok(named) => named,
            Err(answer) => return answer,
        };
        world.quectel.ota.auto.remove(&dk);
        reply::<()>(OK, "success", None)
    })
    .await
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FetchPlan {
    target_version: String,
    component_no: String,
    desc: String,
    file_name: String,
    file_url: String,
    file_size: usize,
    file_sign: String,
    plan_id: i64,
}

async fn fetch_plan(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let auth = gateway::authorization(&headers);
    let params = query_params(query.as_deref());
    let target = target_of(&params);
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    gateway::serve(&sim, call(FETCH_PLAN, target.as_deref()), |world| {
        if let Err(answer) = admit(world, auth.as_deref()) {
            return answer;
        }
        world.settle();
        let (_, dk) = match named_device(world, &params) {
            Ok(named) => named,
            Err(answer) => return answer,
        };
        let data = world.quectel.ota.open_for(&dk).map(|plan| FetchPlan {
            target_version: plan.target.clone(),
            component_no: plan.com_type.to_string(),
            desc: format!("{}: firmware {}", plan.name, plan.target),
            file_name: plan.file_name(),
            file_url: format!("http://{host}/_sim/quectel/packages/{}", plan.id),
            file_size: plan.package.len(),
            file_sign: sha256_hex(&plan.package),
            plan_id: plan.id,
        });
        reply(OK, "success", data)
    })
    .await
}

/// What a Bluetooth `reportStatus` does to the device's plan. The codes' meanings are not published; this
/// is the simulator's reading of the console's documented mapping: 0 confirmed, 1 downloading,
/// 2 downloaded, 3 installing, 4 succeeded, 10 cancelled by the user, any other up to 12 a failure.
fn apply_report(device: &mut DevicePlan, status: i64) -> bool {
    match status {
        0 => device.confirm = UPGRADE_NOW,
        1..=3 => {
            device.status = UPGRADING;
            device.progress = [0.1, 0.5, 0.8][status as usize - 1];
        }
        4 => {
            device.status = SUCCEEDED;
            device.progress = 1.0;
            return true;
        }
        10 => {
            device.status = FAILED;
            device.confirm = CANCELLED;
        }
        _ => device.status = FAILED,
    }
    false
}

async fn report_status(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let auth = gateway::authorization(&headers);
    let params = parameters(query.as_deref(), &headers, &body);
    let target = target_of(&params);
    gateway::serve(&sim, call(REPORT_STATUS, target.as_deref()), |world| {
        if let Err(answer) = admit(world, auth.as_deref()) {
            return answer;
        }
        world.settle();
        let (_, dk) = match named_device(world, &params) {
            Ok(named) => named,
            Err(answer) => return answer,
        };
        let Some(status) = param(&params, &["reportStatus", "status"])
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|s| (0..=12).contains(s))
        else {
            return failure(BAD_REQUEST, "reportStatus must be a number from 0 to 12");
        };
        let component = param(&params, &["componentNo"]).map(str::to_string);
        let Some(plan) = world.quectel.ota.open_for(&dk) else {
            return failure(NOT_FOUND, "no open upgrade plan for this device");
        };
        if component.is_some_and(|c| c != plan.com_type.to_string()) {
            return failure(BAD_REQUEST, "componentNo does not match the plan");
        }
        let target_version = plan.target.clone();
        let done = plan
            .devices
            .get_mut(&dk)
            .is_some_and(|device| apply_report(device, status));
        if done {
            if let Some(device) = world.device_mut(&dk) {
                device.firmware = target_version;
            }
        }
        reply::<()>(OK, "success", None)
    })
    .await
}

/// `POST /_sim/quectel/plans`: what a developer would set up in the Developer Center.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewPlan {
    #[serde(default)]
    plan_name: Option<String>,
    target_version: String,
    product_key: String,
    #[serde(default)]
    device_keys: Option<Vec<String>>,
    #[serde(default)]
    plan_start_time: Option<i64>,
    #[serde(default)]
    plan_end_time: Option<i64>,
    #[serde(default)]
    com_type: Option<i32>,
}

fn admin_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn create_plan(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let new: NewPlan = match serde_json::from_slice(&body) {
        Ok(new) => new,
        Err(err) => {
            return admin_error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {err}"))
        }
    };
    let mut world = sim.lock();
    world.settle();
    if world.fleet.quectel_product(&new.product_key).is_none() {
        return admin_error(
            StatusCode::NOT_FOUND,
            format!("no Quectel product {}", new.product_key),
        );
    }
    let members: Vec<(String, bool, bool)> = match &new.device_keys {
        Some(keys) => {
            let mut members = Vec::new();
            for key in keys {
                match world.device(key) {
                    Some(d) if d.product_key.as_deref() == Some(new.product_key.as_str()) => {
                        members.push((
                            d.id.clone(),
                            d.transport == Some(Transport::Ble),
                            d.firmware == new.target_version,
                        ));
                    }
                    _ => {
                        return admin_error(
                            StatusCode::BAD_REQUEST,
                            format!("{key} is not a device of product {}", new.product_key),
                        )
                    }
                }
            }
            members
        }
        None => world
            .fleet
            .devices
            .iter()
            .filter(|d| {
                d.cloud == Cloud::Quectel
                    && d.product_key.as_deref() == Some(new.product_key.as_str())
            })
            .map(|d| {
                (
                    d.id.clone(),
                    d.transport == Some(Transport::Ble),
                    d.firmware == new.target_version,
                )
            })
            .collect(),
    };
    let wall = wall_ms(&world);
    let start = new
        .plan_start_time
        .unwrap_or(wall as i64 - DEFAULT_PERIOD_BEFORE_MS);
    let end = new
        .plan_end_time
        .unwrap_or(wall as i64 + DEFAULT_PERIOD_AFTER_MS);
    if end <= start {
        return admin_error(
            StatusCode::BAD_REQUEST,
            "planEndTime must be after planStartTime",
        );
    }
    let World {
        quectel, faults, ..
    } = &mut *world;
    let ota = &mut quectel.ota;
    let id = ota.next_id;
    ota.next_id += 1;
    let mut devices = BTreeMap::new();
    for (key, ble, latest) in members {
        let mut device = DevicePlan {
            product_key: new.product_key.clone(),
            ble,
            status: if latest { ALREADY_LATEST } else { NOT_UPGRADED },
            confirm: UNCONFIRMED,
            appoint: None,
            auto: false,
            scheduled: None,
            started: None,
            doomed: false,
            progress: 0.0,
        };
        // Auto-confirmation mode: the cloud pushes the plan at once (or when its period opens).
        if !ble && !latest && ota.auto.contains(&key) {
            device.auto = true;
            device.confirm = UPGRADE_NOW;
            if wall >= start as f64 {
                device.start(wall, faults, &key);
            } else {
                device.scheduled = Some(start as f64);
            }
        }
        devices.insert(key, device);
    }
    let listed: Vec<Value> = devices
        .iter()
        .map(|(k, d)| json!({"deviceKey": k, "deviceStatus": d.status, "userConfirmStatus": d.confirm}))
        .collect();
    let package = SplitMix64::new(id as u64).bytes(PACKAGE_BYTES);
    ota.plans.push(Plan {
        id,
        name: new
            .plan_name
            .unwrap_or_else(|| format!("Upgrade to {}", new.target_version)),
        target: new.target_version,
        start,
        end,
        com_type: new.com_type.unwrap_or(0),
        devices,
        package,
    });
    (
        StatusCode::CREATED,
        Json(json!({
            "planId": id,
            "planStartTime": start,
            "planEndTime": end,
            "nowMs": wall as i64,
            "devices": listed,
        })),
    )
        .into_response()
}

/// The package a Bluetooth plan's `fileUrl` points at (a CDN in the real service: no token needed).
async fn package(State(sim): State<Arc<Sim>>, Path(plan_id): Path<i64>) -> Response {
    let world = sim.lock();
    let Some(plan) = world.quectel.ota.plans.iter().find(|p| p.id == plan_id) else {
        return admin_error(
            StatusCode::NOT_FOUND,
            format!("no package for plan {plan_id}"),
        );
    };
    let disposition = format!("attachment; filename=\"{}\"", plan.file_name());
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from(plan.package.clone()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> DevicePlan {
        DevicePlan {
            product_key: "pk".into(),
            ble: false,
            status: NOT_UPGRADED,
            confirm: UNCONFIRMED,
            appoint: None,
            auto: false,
            scheduled: None,
            started: None,
            doomed: false,
            progress: 0.0,
        }
    }

    fn plan() -> Plan {
        let mut devices = BTreeMap::new();
        devices.insert("dk".to_string(), device());
        Plan {
            id: 1,
            name: "p".into(),
            target: "2.0".into(),
            start: 0,
            end: 10 * HOUR_MS,
            com_type: 0,
            devices,
            package: vec![1, 2, 3],
        }
    }

    fn item(oper_type: i64, appoint: Option<(i64, i64)>) -> ConfirmItem {
        ConfirmItem {
            product_key: "pk".into(),
            device_key: "dk".into(),
            plan_id: 1,
            oper_type,
            appoint_start_time: appoint.map(|a| a.0),
            appoint_end_time: appoint.map(|a| a.1),
        }
    }

    #[test]
    fn appointment_rules() {
        let mut plans = vec![plan()];
        let mut faults = FaultBook::default();
        let short = apply(
            &mut plans,
            &mut faults,
            &item(2, Some((HOUR_MS, 2 * HOUR_MS - 60_000))),
            0.0,
        );
        assert_eq!(short.unwrap_err().0, BAD_REQUEST);
        let outside = apply(
            &mut plans,
            &mut faults,
            &item(2, Some((9 * HOUR_MS, 11 * HOUR_MS))),
            0.0,
        );
        assert!(outside.unwrap_err().1.contains("inside the plan period"));
        apply(
            &mut plans,
            &mut faults,
            &item(2, Some((HOUR_MS, 2 * HOUR_MS))),
            0.0,
        )
        .unwrap();
        assert_eq!(plans[0].devices["dk"].confirm, APPOINTED);
    }

    #[test]
    fn cancel_then_retry_is_refused_and_failure_can_be_retried() {
        let mut plans = vec![plan()];
        let mut faults = FaultBook::default();
        apply(&mut plans, &mut faults, &item(5, None), 0.0).unwrap_err();
        apply(&mut plans, &mut faults, &item(3, None), 0.0).unwrap();
        assert_eq!(plans[0].devices["dk"].status, FAILED);
        assert_eq!(
            apply(&mut plans, &mut faults, &item(5, None), 0.0)
                .unwrap_err()
                .0,
            CONFLICT
        );
        let mut plans = vec![plan()];
        plans[0].devices.get_mut("dk").unwrap().status = FAILED;
        apply(&mut plans, &mut faults, &item(5, None), 0.0).unwrap();
        assert_eq!(plans[0].devices["dk"].status, UPGRADING);
    }

    #[test]
    fn ble_reports() {
        let mut d = device();
        assert!(!apply_report(&mut d, 0));
        assert_eq!(d.confirm, UPGRADE_NOW);
        apply_report(&mut d, 2);
        assert_eq!(d.status, UPGRADING);
        assert!(apply_report(&mut d, 4));
        apply_report(&mut d, 10);
        assert_eq!((d.status, d.confirm), (FAILED, CANCELLED));
    }
}
