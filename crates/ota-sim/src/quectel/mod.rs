//! The Quectel Developer Center: the end-user API (`accounts`: e-mail sign-in, token refresh, the paged
//! device list) and its OTA — manual upgrade plans for MQTT devices (`plans`: confirm / appoint / cancel
//! / retry), the user auto-confirmation switch (`auto_upgrade`) and the Bluetooth flow where the app
//! carries the package (`ble`) — over one plan state machine (`ota`). Plans are made through
//! `POST /_sim/quectel/plans` (`admin`; no public management API is known); a new simulator starts with
//! the sandbox's plans (`sandbox`).
//!
//! Envelope `{"code": 200, "msg", "data", "extMsg"}`; an unusable token is code 401 (HTTP 200).
//!
//! Each endpoint takes exactly one form (see `docs/clouds/quectel.md`): one method, the documented
//! parameter names, one body encoding (`request`). GET endpoints take their query parameters (`pk`/`dk`
//! for the plan and the Bluetooth plan, `productKey`/`deviceKey` for the auto-upgrade switch), POST
//! endpoints a form (sign-in) or a JSON body with the documented names. A request in another form is
//! answered as the cloud would: an unknown path is HTTP 404, another method HTTP 405 with a Spring-style
//! error body, and a missing parameter, a parameter under another name or a body in another encoding is
//! code 400 "parameter error" (HTTP 200, in the envelope).

mod accounts;
mod admin;
mod auto_upgrade;
mod ble;
pub(crate) mod ota;
mod plans;
mod request;
pub(crate) mod sandbox;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::OriginalUri;
use axum::http::{header, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put, MethodRouter};
use axum::{Json, Router};
use serde::Serialize;

use crate::fleet::Cloud;
use crate::gateway::CloudReply;
use crate::log::{CallInfo, Outcome};
use crate::world::Sim;

pub const OK: i64 = 200;
/// "Parameter error": a parameter missing, under another name, of the wrong type, or a body in another
/// encoding.
pub const BAD_REQUEST: i64 = 400;
pub const UNAUTHORIZED: i64 = 401;
const NOT_FOUND: i64 = 404;

// The simulator's own copy of the cloud's paths (never imported from the client), then its own.
const LOGIN: &str = "/v2/enduser/enduserapi/emailPwdLogin";
const REFRESH: &str = "/v2/enduser/enduserapi/refreshToken";
const DEVICE_LIST: &str = "/v2/binding/enduserapi/userDeviceList";
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<T> {
    code: i64,
    msg: String,
    data: Option<T>,
    ext_msg: String,
}

pub(crate) fn reply<T: Serialize>(code: i64, msg: &str, data: Option<T>) -> CloudReply {
    let outcome = if code == OK {
        Outcome::Ok
    } else {
        Outcome::Error(code)
    };
    let envelope = Envelope {
        code,
        msg: msg.to_string(),
        data,
        ext_msg: String::new(),
    };
    CloudReply::json(&envelope, outcome)
}

pub(crate) fn failure(code: i64, msg: &str) -> CloudReply {
    reply::<()>(code, msg, None)
}

#[derive(Default)]
pub struct QuectelState {
    /// Token -> simulated ms it was issued.
    access: HashMap<String, f64>,
    refresh: HashMap<String, f64>,
    /// Upgrade plans, auto-upgrade switches and BLE packages (see `ota`).
    pub(crate) ota: ota::OtaState,
    /// Where the Quectel devices sit in the fleet, in fleet order (the device list's order), found once:
    /// the fleet's membership never changes after it is generated, and a page must not walk the whole
    /// fleet (see `accounts::device_list`).
    pub(crate) listed: Option<Vec<usize>>,
}

pub fn routes() -> Router<Arc<Sim>> {
    use accounts::{device_list, login, refresh};
    use admin::{create_plan, package};
    use auto_upgrade::{delete_auto, get_auto, set_auto};
    use ble::{fetch_plan, report_status};
    use plans::{batch_confirm, batch_details, get_plan};
    Router::new()
        .route(LOGIN, only(post(login), "POST"))
        .route(REFRESH, only(put(refresh), "PUT"))
        .route(DEVICE_LIST, only(get(device_list), "GET"))
        .route(GET_PLAN, only(get(get_plan), "GET"))
        .route(BATCH_CONFIRM, only(post(batch_confirm), "POST"))
        .route(BATCH_DETAILS, only(post(batch_details), "POST"))
        .route(SET_AUTO, only(post(set_auto), "POST"))
        .route(GET_AUTO, only(get(get_auto), "GET"))
        .route(DELETE_AUTO, only(post(delete_auto), "POST"))
        .route(FETCH_PLAN, only(get(fetch_plan), "GET"))
        .route(REPORT_STATUS, only(post(report_status), "POST"))
        // The simulator's own routes, not the cloud's: no Spring-style 405.
        .route(CREATE_PLAN, post(create_plan))
        .route(PACKAGE, get(package))
}

/// A route that answers any other method the way a Java web service does: HTTP 405 with a Spring-style
/// error body, before any of the cloud's own code (and envelope) comes in.
pub(crate) fn only(route: MethodRouter<Arc<Sim>>, allowed: &'static str) -> MethodRouter<Arc<Sim>> {
    route.fallback(
        move |method: Method, OriginalUri(uri): OriginalUri| async move {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, allowed)],
                Json(serde_json::json!({
                    "timestamp": crate::clock::unix_ms(),
                    "status": 405,
                    "error": "Method Not Allowed",
                    "message": format!("Request method '{method}' is not supported"),
                    "path": uri.path(),
                })),
            )
                .into_response()
        },
    )
}

/// The call-log line of a Quectel call; `target` is the device it names, if one.
fn call(endpoint: &'static str, target: Option<&str>) -> CallInfo {
    CallInfo {
        cloud: Cloud::Quectel,
        endpoint,
        target: target.map(str::to_string),
    }
}
