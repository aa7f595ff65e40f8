//! OneNET, sandbox side: `GET /_sim/onenet/devices?product_id=P` lists a product's devices for a
//! valid product token (`res=products/P`). OneNET's device-side API has no listing; this one stands in
//! for the console. Envelope `{"errno", "error", "data"}`, HTTP 200 even for errors.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Serialize;

use super::auth;
use crate::faults::FaultUses;
use crate::fleet::{Cloud, Device};
use crate::gateway::{self, CloudReply};
use crate::log::{CallInfo, Outcome};
use crate::world::{Sim, World};

pub const SUCCESS: i64 = 0;
pub const AUTH_FAILED: i64 = 1;
pub const BAD_PARAMETERS: i64 = 2;

const DEVICES: &str = "/_sim/onenet/devices";

#[derive(Debug, Serialize)]
struct Envelope<T> {
    errno: i64,
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<T>,
}

#[derive(Debug, Serialize)]
struct DeviceEntry {
    /// Numeric id, as a decimal string.
    dev_id: String,
    name: String,
    /// Manufacturer number from OneNET's chip table (e.g. "102").
    manuf: String,
    /// Chip number (e.g. "10201").
    model: String,
    version: String,
    online: bool,
    battery: u8,
    signal: i32,
}

#[derive(Debug, Serialize)]
struct DeviceList {
    devices: Vec<DeviceEntry>,
}

fn failure(errno: i64, error: &str) -> CloudReply {
    let envelope: Envelope<()> = Envelope {
        errno,
        error: error.to_string(),
        data: None,
    };
    CloudReply::json(&envelope, Outcome::Error(errno))
}

pub fn routes() -> Router<Arc<Sim>> {
    Router::new().route(DEVICES, get(devices))
}

async fn devices(
    State(sim): State<Arc<Sim>>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let auth = gateway::authorization(&headers);
    let product_id = params
        .get("product_id")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty());
    let call = CallInfo {
        cloud: Cloud::Onenet,
        endpoint: DEVICES,
        target: product_id.clone(),
    };
    gateway::serve(&sim, call, |world| {
        let Some(product_id) = product_id else {
            return failure(BAD_PARAMETERS, "product_id is required");
        };
        list(world, &product_id, auth.as_deref())
    })
    .await
}

fn list(world: &mut World, product_id: &str, auth: Option<&str>) -> CloudReply {
    let Some(product) = world.fleet.onenet_product(product_id) else {
        return failure(AUTH_FAILED, "auth failed");
    };
    let Some(token) = auth else {
        return failure(AUTH_FAILED, "auth failed");
    };
    let res = format!("products/{product_id}");
    if let Err(why) = auth::verify(
        token,
        &product.access_key,
        &res,
        crate::clock::unix_secs() + clock_skew_secs(world, None),
    ) {
        tracing::debug!(product_id, reason = %why, "onenet token refused");
        return failure(AUTH_FAILED, "auth failed");
    }
    let mut uses = FaultUses::default();
    let devices = world
        .fleet
        .devices
        .iter()
        .filter(|d| d.cloud == Cloud::Onenet && d.product_key.as_deref() == Some(product_id))
        .map(|d| entry(&world.view(d, &mut uses)))
        .collect();
    uses.settle(&mut world.faults);
    let envelope = Envelope {
        errno: SUCCESS,
        error: "succ".into(),
        data: Some(DeviceList { devices }),
    };
    CloudReply::json(&envelope, Outcome::Ok)
}

/// How far OneNET's clock is ahead under the `clock_skew` fault (0 without it).
pub(crate) fn clock_skew_secs(world: &World, target: Option<&str>) -> u64 {
    const SKEW_SECS: u64 = 2 * 3600;
    match world
        .faults
        .probe(crate::faults::FaultKind::ClockSkew, target)
    {
        Some(_) => SKEW_SECS,
        None => 0,
    }
}

fn entry(device: &Device) -> DeviceEntry {
    DeviceEntry {
        dev_id: device.id.clone(),
        name: device.name.clone(),
        manuf: device.manufacturer.clone(),
        model: device.model.clone(),
        version: device.firmware.clone(),
        online: device.online,
        battery: device.battery,
        signal: device.signal,
    }
}
