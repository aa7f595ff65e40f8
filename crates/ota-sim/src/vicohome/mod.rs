//! The Vicohome (ADDX) camera cloud: sign-in, device list, one device, OTA start and status.
//!
//! Each endpoint takes exactly the documented form (see `docs/clouds/vicohome.md`): `POST` with a JSON
//! body (`Content-Type: application/json`) on the documented path — `/device/otastart/` and
//! `/device/otastatus/` with their trailing slash. A path without it is unknown (HTTP 404), another
//! method is HTTP 405, and a body in another encoding or without a documented field is -2 "invalid
//! parameters".
//!
//! Each `otastart` that begins a new run counts as one start of the camera in `GET /_sim/starts`; the
//! run's target is the camera's `newest_firmware` at that moment (`POST /_sim/vicohome/firmware` changes
//! it for later starts).

pub mod ota;
pub mod wire;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::{Json, Router};
use serde::de::DeserializeOwned;

use crate::faults::{FaultKind, FaultUses};
use crate::fleet::{Cloud, Device};
use crate::gateway::{self, CloudReply};
use crate::log::{CallInfo, Outcome};
use crate::world::{Sim, World};
use ota::{Failure, OtaRun, Phase};
use wire::{
    BodyError, DeviceInfo, DeviceListData, DeviceRequest, Envelope, ListDevicesRequest, LoginData,
    LoginRequest, OtaStatusData, StartOtaRequest, TokenData,
};

pub const GENERAL_ERROR: i64 = -1;
pub const INVALID_PARAMS: i64 = -2;
pub const DEVICE_NOT_FOUND: i64 = -100;
pub const DEVICE_OFFLINE: i64 = -101;
pub const NO_UPDATE: i64 = -102;
pub const LOW_BATTERY: i64 = -103;
pub const TOKEN_MISSING: i64 = -1025;
pub const TOKEN_INVALID: i64 = -1026;
pub const TOKEN_EXPIRED: i64 = -1027;
pub const DOWNLOAD_FAILED: i64 = -10401;
pub const INSTALL_FAILED: i64 = -10402;

/// Below this a camera that is not charging refuses to update.
pub const MIN_BATTERY: u8 = 20;

const LOGIN: &str = "/account/login";
const LIST: &str = "/device/listuserdevices";
const SELECT: &str = "/device/selectsingledevice";
const OTA_START: &str = "/device/otastart/";
const OTA_STATUS: &str = "/device/otastatus/";

fn message(code: i64) -> &'static str {
    match code {
        0 => "success",
        GENERAL_ERROR => "General error",
        INVALID_PARAMS => "Invalid parameters",
        DEVICE_NOT_FOUND => "Device not found",
        DEVICE_OFFLINE => "Device offline",
        NO_UPDATE => "No update available",
        LOW_BATTERY => "Insufficient battery level",
        TOKEN_MISSING => "token missing",
        TOKEN_INVALID => "token invalid",
        TOKEN_EXPIRED => "token expired",
        DOWNLOAD_FAILED => "Update download failed",
        INSTALL_FAILED => "Update installation failed",
        _ => "error",
    }
}

fn error(code: i64) -> CloudReply {
    error_with(code, message(code))
}

/// -2 with what was wrong with the request, as the cloud's `msg`.
fn invalid(detail: impl std::fmt::Display) -> CloudReply {
    error_with(
        INVALID_PARAMS,
        &format!("{}: {detail}", message(INVALID_PARAMS)),
    )
}

fn error_with(code: i64, msg: &str) -> CloudReply {
    let envelope: Envelope<()> = Envelope {
        result: code,
        msg: msg.to_string(),
        data: None,
    };
    CloudReply::json(&envelope, Outcome::Error(code))
}

fn success<T: serde::Serialize>(data: T, outcome: Outcome) -> CloudReply {
    answer(0, data, outcome)
}

fn answer<T: serde::Serialize>(result: i64, data: T, outcome: Outcome) -> CloudReply {
    let envelope = Envelope {
        result,
        msg: message(result).to_string(),
        data: Some(data),
    };
    CloudReply::json(&envelope, outcome)
}

struct Session {
    issued_ms: f64,
    /// Expired early by the `token_expired` fault.
    expired: bool,
}

#[derive(Default)]
pub(crate) struct VicoState {
    sessions: HashMap<String, Session>,
    runs: BTreeMap<String, OtaRun>,
    /// Serials whose run had not ended when last settled. Every call settles the world first, so only
    /// these are looked at, not every run the simulator ever served (a 100 000-camera campaign made
    /// settling the whole map the simulator's main cost).
    open: BTreeSet<String>,
}

impl VicoState {
    fn start_run(&mut self, serial: &str, run: OtaRun) {
        self.runs.insert(serial.to_string(), run);
        self.open.insert(serial.to_string());
    }

    /// Gives finished updates' firmware to their cameras; returns (serial, firmware) of each newly
    /// finished one. A run under `version_unchanged` ends without giving its firmware.
    pub(crate) fn settle(&mut self, now: f64) -> Vec<(String, String)> {
        let mut finished = Vec::new();
        let Self { runs, open, .. } = self;
        open.retain(|serial| {
            let Some(run) = runs.get_mut(serial).filter(|run| !run.applied) else {
                return false;
            };
            match run.progress(now).phase {
                Phase::Complete => {
                    run.applied = true;
                    // A camera the `version_unchanged` fault holds reports success but keeps its firmware.
                    if !run.keeps_firmware {
                        finished.push((serial.clone(), run.target_firmware.clone()));
                    }
                    false
                }
                // A failed run stays failed: it never gives its firmware.
                phase => !phase.is_finished(),
            }
        });
        finished
    }
}

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route(LOGIN, post_only(post(login)))
        .route(LIST, post_only(post(list_devices)))
        .route(SELECT, post_only(post(select_device)))
        .route(OTA_START, post_only(post(ota_start)))
        .route(OTA_STATUS, post_only(post(ota_status)))
}

/// Every Vicohome call is a POST; another method on a known path is HTTP 405 with a Spring-style error
/// body (what a Java web service answers before any of its own code runs).
fn post_only(route: MethodRouter<Arc<Sim>>) -> MethodRouter<Arc<Sim>> {
    route.fallback(method_not_allowed)
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST")],
        Json(serde_json::json!({
            "timestamp": crate::clock::unix_ms(),
            "status": 405,
            "error": "Method Not Allowed",
            "message": format!("Request method '{method}' is not supported"),
            "path": uri.path(),
        })),
    )
        .into_response()
}

/// The request body as the cloud reads it (see [`wire::decode`]).
fn request<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, BodyError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    wire::decode(content_type, body)
}

fn call(endpoint: &'static str, target: Option<&str>) -> CallInfo {
    CallInfo {
        cloud: Cloud::Vicohome,
        endpoint,
        target: target.map(str::to_string),
    }
}

async fn login(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let request: Result<LoginRequest, BodyError> = request(&headers, &body);
    gateway::serve(&sim, call(LOGIN, None), |world| {
        let request = match request {
            Ok(request) if request.login_type == 0 => request,
            Ok(request) => {
                return invalid(format!("loginType {} is not supported", request.login_type))
            }
            Err(err) => return invalid(err),
        };
        let account = &world.fleet.accounts.vicohome;
        let matches = request.email.trim() == account.email && request.password == account.password;
        if !matches {
            return error_with(GENERAL_ERROR, "account or password error");
        }
        let token = world.mint.mint(40);
        let issued_ms = world.now_ms();
        world.vico.sessions.insert(
            token.clone(),
            Session {
                issued_ms,
                expired: false,
            },
        );
        success(
            LoginData {
                token: TokenData { token },
            },
            Outcome::Ok,
        )
    })
    .await
}

/// Token checks, then the Vicohome error faults; `Err` is the result code to answer.
fn admit(world: &mut World, auth: Option<&str>, target: Option<&str>) -> Result<(), i64> {
    let token = auth.ok_or(TOKEN_MISSING)?;
    let now = world.now_ms();
    let ttl = world.token_ttl_ms;
    let session = world.vico.sessions.get_mut(token).ok_or(TOKEN_INVALID)?;
    if session.expired || now - session.issued_ms >= ttl {
        return Err(TOKEN_EXPIRED);
    }
    if world.faults.hit(FaultKind::TokenExpired, target) {
        if let Some(session) = world.vico.sessions.get_mut(token) {
            session.expired = true;
        }
        return Err(TOKEN_EXPIRED);
    }
    if world.faults.hit(FaultKind::VicoGeneralError, target) {
        return Err(GENERAL_ERROR);
    }
    if world.faults.hit(FaultKind::VicoInvalidParams, target) {
        return Err(INVALID_PARAMS);
    }
    Ok(())
}

/// The camera a serial number names, or the result code when it is blank or unknown to Vicohome.
fn camera(world: &World, serial: &str) -> Result<String, i64> {
    let serial = serial.trim();
    if serial.is_empty() {
        return Err(INVALID_PARAMS);
    }
    match world.device(serial) {
        Some(d) if d.cloud == Cloud::Vicohome => Ok(d.id.clone()),
        _ => Err(DEVICE_NOT_FOUND),
    }
}

/// The device a call names, for the call log and device-targeted faults.
fn logged_target<'a>(serial: Result<&'a str, &BodyError>) -> Option<&'a str> {
    serial.ok().filter(|s| !s.is_empty())
}

/// Token checks, then the body, then the camera it names: the serial number, or the answer refusing
/// the call.
fn admit_camera(
    world: &mut World,
    auth: Option<&str>,
    serial: Result<&str, &BodyError>,
) -> Result<String, CloudReply> {
    admit(world, auth, logged_target(serial)).map_err(error)?;
    let serial = serial.map_err(invalid)?;
    camera(world, serial).map_err(error)
}

fn device_info(device: &Device, with_status: bool) -> DeviceInfo {
    DeviceInfo {
        serial_number: device.id.clone(),
        model_no: device.model.clone(),
        device_name: device.name.clone(),
        battery_level: device.battery,
        signal_strength: device.signal,
        is_charging: u8::from(device.is_charging),
        ip: device.ip.clone(),
        mac_address: device.mac.clone(),
        online: u8::from(device.online),
        firmware_id: device.firmware.clone(),
        newest_firmware_id: device.newest_firmware.clone(),
        firmware_status: with_status.then(|| u8::from(device.firmware != device.newest_firmware)),
    }
}

fn status_data(serial: &str, run: &OtaRun, now: f64, with_target: bool) -> OtaStatusData {
    let progress = run.progress(now);
    OtaStatusData {
        in_progress: !progress.phase.is_finished(),
        ota_status: progress.phase.code(),
        serial_number: serial.to_string(),
        status: 1,
        total_size: run.total_size,
        transferred_size: progress.transferred,
        target_firmware: with_target.then(|| run.target_firmware.clone()),
    }
}

async fn list_devices(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = gateway::authorization(&headers);
    let request: Result<ListDevicesRequest, BodyError> = request(&headers, &body);
    gateway::serve(&sim, call(LIST, None), |world| {
        if let Err(code) = admit(world, auth.as_deref(), None) {
            return error(code);
        }
        if let Err(err) = request {
            return invalid(err);
        }
        world.settle();
        let mut uses = FaultUses::default();
        let list = world
            .fleet
            .devices
            .iter()
            .filter(|d| d.cloud == Cloud::Vicohome)
            .map(|d| device_info(&world.view(d, &mut uses), false))
            .collect();
        uses.settle(&mut world.faults);
        success(DeviceListData { list }, Outcome::Ok)
    })
    .await
}

async fn select_device(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = gateway::authorization(&headers);
    let request: Result<DeviceRequest, BodyError> = request(&headers, &body);
    let serial = request.as_ref().map(|r| r.serial_number.trim());
    gateway::serve(&sim, call(SELECT, logged_target(serial)), |world| {
        let serial = match admit_camera(world, auth.as_deref(), serial) {
            Ok(serial) => serial,
            Err(answer) => return answer,
        };
        world.settle();
        match world.view_one(&serial) {
            Some(view) => success(device_info(&view, true), Outcome::Ok),
            None => error(DEVICE_NOT_FOUND),
        }
    })
    .await
}

async fn ota_start(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = gateway::authorization(&headers);
    let request: Result<StartOtaRequest, BodyError> = request(&headers, &body);
    let serial = request.as_ref().map(|r| r.serial_number.trim());
    gateway::serve(
        &sim,
        call(OTA_START, logged_target(serial)),
        |world| match admit_camera(world, auth.as_deref(), serial) {
            Ok(serial) => start(world, &serial),
            Err(answer) => answer,
        },
    )
    .await
}

fn start(world: &mut World, serial: &str) -> CloudReply {
    let now = world.now_ms();
    world.settle_at(now);
    let Some(view) = world.view_one(serial) else {
        return error(DEVICE_NOT_FOUND);
    };
    if !view.online {
        return error(DEVICE_OFFLINE);
    }
    if let Some(run) = world.vico.runs.get(serial) {
        if !run.progress(now).phase.is_finished() {
            // Idempotent: a second start reports the update already running.
            return success(
                status_data(serial, run, now, false),
                Outcome::AlreadyInProgress,
            );
        }
    }
    if world.faults.hit(FaultKind::VicoNoUpdate, Some(serial))
        || view.firmware == view.newest_firmware
    {
        return error(NO_UPDATE);
    }
    if view.battery < MIN_BATTERY && !view.is_charging {
        return error(LOW_BATTERY);
    }
    let total_size = world
        .fleet
        .vico_model(&view.model)
        .map(|m| m.package_size)
        .unwrap_or(16 * 1024 * 1024);
    let mut run = OtaRun::new(now, total_size, view.newest_firmware.clone());
    if world.faults.hit(FaultKind::DownloadFail, Some(serial)) {
        run.doom(Failure::Download, now);
    } else if world.faults.hit(FaultKind::InstallFail, Some(serial)) {
        run.doom(Failure::Install, now);
    } else if world.faults.hit(FaultKind::StuckInProgress, Some(serial)) {
        run.stuck = true;
    } else if world.faults.hit(FaultKind::VersionUnchanged, Some(serial)) {
        run.keeps_firmware = true;
    }
    let data = status_data(serial, &run, now, false);
    world.vico.start_run(serial, run);
    world.starts.count(crate::fleet::Cloud::Vicohome, serial);
    success(data, Outcome::Ok)
}

async fn ota_status(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = gateway::authorization(&headers);
    let request: Result<DeviceRequest, BodyError> = request(&headers, &body);
    let serial = request.as_ref().map(|r| r.serial_number.trim());
    gateway::serve(
        &sim,
        call(OTA_STATUS, logged_target(serial)),
        |world| match admit_camera(world, auth.as_deref(), serial) {
            Ok(serial) => status(world, &serial),
            Err(answer) => answer,
        },
    )
    .await
}

/// A failure fault switched on while the update runs still makes it fail.
fn apply_failure_faults(world: &mut World, serial: &str, now: f64) {
    let Some(run) = world.vico.runs.get_mut(serial) else {
        return;
    };
    for (kind, failure) in [
        (FaultKind::DownloadFail, Failure::Download),
        (FaultKind::InstallFail, Failure::Install),
    ] {
        if let Some(id) = world.faults.probe(kind, Some(serial)) {
            if run.doom(failure, now) {
                world.faults.consume(id);
                return;
            }
        }
    }
}

fn status(world: &mut World, serial: &str) -> CloudReply {
    let now = world.now_ms();
    apply_failure_faults(world, serial, now);
    world.settle_at(now);
    let Some(view) = world.view_one(serial) else {
        return error(DEVICE_NOT_FOUND);
    };
    if !view.online {
        return error(DEVICE_OFFLINE);
    }
    let Some(run) = world.vico.runs.get(serial) else {
        // Never started: nothing in progress.
        let total_size = world
            .fleet
            .vico_model(&view.model)
            .map(|m| m.package_size)
            .unwrap_or(0);
        let idle = OtaStatusData {
            in_progress: false,
            ota_status: Phase::Starting.code(),
            serial_number: serial.to_string(),
            status: 1,
            total_size,
            transferred_size: 0,
            target_firmware: None,
        };
        return success(idle, Outcome::Ok);
    };
    let data = status_data(serial, run, now, true);
    match run.progress(now).phase {
        Phase::Failed => answer(DOWNLOAD_FAILED, data, Outcome::Error(DOWNLOAD_FAILED)),
        Phase::FailedOther => answer(INSTALL_FAILED, data, Outcome::Error(INSTALL_FAILED)),
        _ => success(data, Outcome::Ok),
    }
}
