//! The Quectel Developer Center end-user API: e-mail sign-in, token refresh and the paged device list,
//! and the token check every signed-in call passes ([`signed_in`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use super::request::{form_body, parameter_error, query_params, required};
use super::{call, failure, reply, DEVICE_LIST, LOGIN, OK, REFRESH, UNAUTHORIZED};
use crate::faults::FaultUses;
use crate::fleet::{Cloud, Device};
use crate::gateway::{self, CloudReply};
use crate::world::{Sim, World};

/// A refresh token outlives its access tokens by this factor.
const REFRESH_TTL_FACTOR: f64 = 7.0;
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 1000;

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

pub(super) async fn login(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = form_body(&headers, &body);
    gateway::serve(&sim, call(LOGIN, None), |world| {
        let credentials = params.and_then(|p| {
            Ok((
                required(&p, "email")?.to_string(),
                // The password is taken as typed: no trimming.
                p.get("pwd")
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .ok_or_else(|| parameter_error("pwd is required"))?,
            ))
        });
        let (email, pwd) = match credentials {
            Ok(credentials) => credentials,
            Err(answer) => return answer,
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

pub(super) async fn refresh(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = form_body(&headers, &body);
    gateway::serve(&sim, call(REFRESH, None), |world| {
        let token = match params.and_then(|p| required(&p, "refreshToken").map(str::to_string)) {
            Ok(token) => token,
            Err(answer) => return answer,
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
fn admit(world: &World, auth: Option<&str>) -> Result<(), CloudReply> {
    let issued = auth
        .and_then(|t| world.quectel.access.get(t))
        .ok_or_else(|| failure(UNAUTHORIZED, "token invalid"))?;
    if world.now_ms() - issued >= world.token_ttl_ms {
        return Err(failure(UNAUTHORIZED, "token expired"));
    }
    Ok(())
}

/// Serves a call that needs a signed-in user, in the order the cloud checks: the access token in
/// `headers` first (code 401), then the `request` as read before the world was locked (its `Err` is
/// the answer), and only then `handler`, whose `Err` is answered as it is. The call is logged under
/// `endpoint` and the device `target` it names.
pub(super) async fn signed_in<T>(
    sim: &Sim,
    headers: &HeaderMap,
    endpoint: &'static str,
    target: Option<String>,
    request: Result<T, CloudReply>,
    handler: impl FnOnce(&mut World, T) -> Result<CloudReply, CloudReply>,
) -> Response {
    let auth = gateway::authorization(headers);
    gateway::serve(sim, call(endpoint, target.as_deref()), |world| {
        let (Ok(answer) | Err(answer)) = admit(world, auth.as_deref())
            .and(request)
            .and_then(|request| handler(world, request));
        answer
    })
    .await
}

/// A page number or size: absent = `default`, not a number = `Err`. Only the documented names count; a
/// server ignores query parameters it does not know.
fn page_param(params: &HashMap<String, String>, name: &str, default: usize) -> Result<usize, ()> {
    match params.get(name) {
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

pub(super) async fn device_list(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = query_params(query.as_deref());
    signed_in(
        &sim,
        &headers,
        DEVICE_LIST,
        None,
        Ok(params),
        |world, params| {
            // Finished upgrade plans show their new firmware.
            world.settle();
            let page_num = page_param(&params, "pageNumber", 1);
            let page_size = page_param(&params, "pageSize", DEFAULT_PAGE_SIZE);
            let (Ok(page_num), Ok(page_size)) = (page_num, page_size) else {
                return Err(parameter_error("pageNumber and pageSize must be numbers"));
            };
            // Pages are 1-based; 0 is read as the first page.
            let page_num = page_num.max(1);
            let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
            let World { fleet, quectel, .. } = &mut *world;
            let listed = quectel.listed.get_or_insert_with(|| {
                fleet
                    .devices
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.cloud == Cloud::Quectel)
                    .map(|(i, _)| i)
                    .collect()
            });
            let total = listed.len();
            let start = (page_num - 1).saturating_mul(page_size).min(total);
            let end = start.saturating_add(page_size).min(total);
            let rows = listed[start..end].to_vec();
            let mut uses = FaultUses::default();
            let list = rows
                .into_iter()
                .map(|i| entry(&world.view(&world.fleet.devices[i], &mut uses)))
                .collect();
            uses.settle(&mut world.faults);
            Ok(reply(
                OK,
                "success",
                Some(DevicePage {
                    list,
                    total,
                    page_num,
                    page_size,
                }),
            ))
        },
    )
    .await
}
