//! The Quectel Developer Center end-user API: e-mail sign-in, token refresh and the paged device list.
//! Envelope `{"code": 200, "msg", "data", "extMsg"}`; an unusable token is code 401 (HTTP 200).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

use crate::faults::FaultUses;
use crate::fleet::{Cloud, Device};
use crate::gateway::{self, CloudReply};
use crate::log::{CallInfo, Outcome};
use crate::world::{Sim, World};

pub const OK: i64 = 200;
pub const BAD_REQUEST: i64 = 400;
pub const UNAUTHORIZED: i64 = 401;

/// A refresh token outlives its access tokens by this factor.
const REFRESH_TTL_FACTOR: f64 = 7.0;
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 1000;

const LOGIN: &str = "/v2/enduser/enduserapi/emailPwdLogin";
const REFRESH: &str = "/v2/enduser/enduserapi/refreshToken";
const DEVICE_LIST: &str = "/v2/binding/enduserapi/userDeviceList";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<T> {
    code: i64,
    msg: String,
    data: Option<T>,
    ext_msg: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenInfo {
    token: String,
    /// Real time, ms since the Unix epoch.
    expiration_time: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginData {
    access_token: TokenInfo,
    refresh_token: TokenInfo,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceEntry {
    product_key: String,
    device_key: String,
    device_name: String,
    product_name: String,
    /// 1 online, 0 offline.
    online_status: u8,
    /// "mqtt" | "ble".
    device_type: &'static str,
    firmware_version: String,
    battery: u8,
    signal_strength: i32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DevicePage {
    list: Vec<DeviceEntry>,
    total: usize,
    page_num: usize,
    page_size: usize,
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
    /// Upgrade plans, auto-upgrade switches and BLE packages (see `quectel_ota`).
    pub(crate) ota: crate::quectel_ota::OtaState,
}

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route(LOGIN, post(login))
        .route(REFRESH, post(refresh).put(refresh))
        .route(DEVICE_LIST, get(device_list))
}

fn call(endpoint: &'static str) -> CallInfo {
    CallInfo {
        cloud: Cloud::Quectel,
        endpoint,
        target: None,
    }
}

/// `a=1&b=2` with `+` as space and percent escapes.
pub(crate) fn parse_urlencoded(raw: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// Parameters from the query string, then the body (JSON or form, whatever the content type says,
/// because clients differ), later ones winning.
pub(crate) fn parameters(
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> HashMap<String, String> {
    let mut params = query.map(parse_urlencoded).unwrap_or_default();
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
        || body.first() == Some(&b'{');
    if is_json {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
            for (k, v) in map {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                params.insert(k, text);
            }
        }
    } else if let Ok(text) = std::str::from_utf8(body) {
        params.extend(parse_urlencoded(text.trim()));
    }
    params
}

fn issue(world: &mut World, refresh: Option<(String, f64)>) -> LoginData {
    let now = world.now_ms();
    let access_ttl = world.token_ttl_ms;
    let refresh_ttl = access_ttl * REFRESH_TTL_FACTOR;
    let scale = world.clock.time_scale();
    // Clients compare expiry with their own (real) clock.
    let real_expiry = |issued: f64, ttl: f64| {
        let remaining_sim_ms = (issued + ttl - now).max(0.0);
        crate::clock::unix_ms() + (remaining_sim_ms / scale).min(u64::MAX as f64 / 4.0) as u64
    };
    let access = format!("qa_{}", world.mint.mint(32));
    world.quectel.access.insert(access.clone(), now);
    let (refresh, refresh_issued) = match refresh {
        Some(kept) => kept,
        None => {
            let token = format!("qr_{}", world.mint.mint(32));
            world.quectel.refresh.insert(token.clone(), now);
            (token, now)
        }
    };
    LoginData {
        access_token: TokenInfo {
            expiration_time: real_expiry(now, access_ttl),
            token: access,
        },
        refresh_token: TokenInfo {
            expiration_time: real_expiry(refresh_issued, refresh_ttl),
            token: refresh,
        },
    }
}

async fn login(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = parameters(query.as_deref(), &headers, &body);
    gateway::serve(&sim, call(LOGIN), |world| {
        let email = params.get("email").map(|e| e.trim().to_string());
        let pwd = params
            .get("pwd")
            .or_else(|| params.get("password"))
            .cloned();
        let (Some(email), Some(pwd)) = (email, pwd) else {
            return failure(BAD_REQUEST, "email and pwd are required");
        };
        let account = &world.fleet.accounts.quectel;
        if email != account.email || pwd != account.password {
            return failure(UNAUTHORIZED, "email or password error");
        }
        let data = issue(world, None);
        reply(OK, "success", Some(data))
    })
    .await
}

async fn refresh(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = parameters(query.as_deref(), &headers, &body);
    gateway::serve(&sim, call(REFRESH), |world| {
        let Some(token) = params.get("refreshToken").map(|t| t.trim().to_string()) else {
            return failure(BAD_REQUEST, "refreshToken is required");
        };
        let now = world.now_ms();
        let ttl = world.token_ttl_ms * REFRESH_TTL_FACTOR;
        match world.quectel.refresh.get(&token).copied() {
            Some(issued) if now - issued < ttl => {
                let data = issue(world, Some((token, issued)));
                reply(OK, "success", Some(data))
            }
            Some(_) => failure(UNAUTHORIZED, "refresh token expired"),
            None => failure(UNAUTHORIZED, "refresh token invalid"),
        }
    })
    .await
}

/// `Err` is the envelope to answer with.
pub(crate) fn admit(world: &World, auth: Option<&str>) -> Result<(), CloudReply> {
    let issued = auth
        .and_then(|t| world.quectel.access.get(t))
        .ok_or_else(|| failure(UNAUTHORIZED, "token invalid"))?;
    if world.now_ms() - issued >= world.token_ttl_ms {
        return Err(failure(UNAUTHORIZED, "token expired"));
    }
    Ok(())
}

/// A page number or size: absent = `default`, not a number = `Err`.
fn page_param(
    params: &HashMap<String, String>,
    names: &[&str],
    default: usize,
) -> Result<usize, ()> {
    match names.iter().find_map(|n| params.get(*n)) {
        None => Ok(default),
        Some(raw) if raw.trim().is_empty() => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| ()),
    }
}

fn entry(device: &Device) -> DeviceEntry {
    DeviceEntry {
        product_key: device.product_key.clone().unwrap_or_default(),
        device_key: device.id.clone(),
        device_name: device.name.clone(),
        product_name: device.model.clone(),
        online_status: u8::from(device.online),
        device_type: device.transport.map(|t| t.as_str()).unwrap_or("mqtt"),
        firmware_version: device.firmware.clone(),
        battery: device.battery,
        signal_strength: device.signal,
    }
}

async fn device_list(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let auth = gateway::authorization(&headers);
    let params = query.as_deref().map(parse_urlencoded).unwrap_or_default();
    gateway::serve(&sim, call(DEVICE_LIST), |world| {
        if let Err(answer) = admit(world, auth.as_deref()) {
            return answer;
        }
        // Finished upgrade plans show their new firmware.
        world.settle();
        let page_num = page_param(&params, &["pageNumber", "pageNum", "page"], 1);
        let page_size = page_param(&params, &["pageSize", "size"], DEFAULT_PAGE_SIZE);
        let (Ok(page_num), Ok(page_size)) = (page_num, page_size) else {
            return failure(BAD_REQUEST, "pageNumber and pageSize must be numbers");
        };
        // Pages are 1-based; 0 is read as the first page.
        let page_num = page_num.max(1);
        let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        let mut uses = FaultUses::default();
        let all: Vec<&Device> = world
            .fleet
            .devices
            .iter()
            .filter(|d| d.cloud == Cloud::Quectel)
            .collect();
        let list = all
            .iter()
            .skip((page_num - 1).saturating_mul(page_size))
            .take(page_size)
            .map(|d| entry(&world.view(d, &mut uses)))
            .collect();
        let total = all.len();
        uses.settle(&mut world.faults);
        reply(
            OK,
            "success",
            Some(DevicePage {
                list,
                total,
                page_num,
                page_size,
            }),
        )
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_and_json_parameters() {
        let form = parameters(None, &HeaderMap::new(), b"email=a%40b.c&pwd=p+w%2Bd");
        assert_eq!(form["email"], "a@b.c");
        assert_eq!(form["pwd"], "p w+d");
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let json = parameters(Some("pageSize=5"), &headers, br#"{"email":"x","pwd":7}"#);
        assert_eq!(json["pwd"], "7");
        assert_eq!(json["pageSize"], "5");
    }
}
