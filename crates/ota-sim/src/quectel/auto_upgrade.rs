//! Quectel's user auto-confirmation switch: a device in this mode gets every new plan pushed at once (or
//! when the plan's period opens) without a confirmation (`setAutoUpgradeSwitch`,
//! `getAutoUpgradeSwitch`, `deleteDeviceUpgrade`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::accounts::signed_in;
use super::request::{
    json_body, named_device, queried_device, queried_target, query_params, AUTO_QUERY,
};
use super::{reply, DELETE_AUTO, GET_AUTO, OK, SET_AUTO};
use crate::gateway::CloudReply;
use crate::world::Sim;

/// `deleteDeviceUpgrade` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceKeysRequest {
    product_key: String,
    device_key: String,
}

/// `setAutoUpgradeSwitch` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AutoSwitchRequest {
    product_key: String,
    device_key: String,
    auto_upgrade: bool,
}

pub(super) async fn set_auto(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: Result<AutoSwitchRequest, CloudReply> = json_body(&headers, &body);
    let target = request.as_ref().ok().map(|r| r.device_key.clone());
    signed_in(
        &sim,
        &headers,
        SET_AUTO,
        target,
        request,
        |world, request| {
            let (_, dk) = named_device(world, &request.product_key, &request.device_key)?;
            if request.auto_upgrade {
                world.quectel.ota.auto.insert(dk);
            } else {
                world.quectel.ota.auto.remove(&dk);
            }
            Ok(reply::<()>(OK, "success", None))
        },
    )
    .await
}

pub(super) async fn get_auto(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = query_params(query.as_deref());
    let target = queried_target(&params, AUTO_QUERY);
    signed_in(
        &sim,
        &headers,
        GET_AUTO,
        target,
        Ok(params),
        |world, params| {
            let (pk, dk) = queried_device(world, &params, AUTO_QUERY)?;
            let on = world.quectel.ota.auto.contains(&dk);
            Ok(reply(
                OK,
                "success",
                Some(json!({"productKey": pk, "deviceKey": dk, "autoUpgrade": on})),
            ))
        },
    )
    .await
}

pub(super) async fn delete_auto(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: Result<DeviceKeysRequest, CloudReply> = json_body(&headers, &body);
    let target = request.as_ref().ok().map(|r| r.device_key.clone());
    signed_in(
        &sim,
        &headers,
        DELETE_AUTO,
        target,
        request,
        |world, request| {
            let (_, dk) = named_device(world, &request.product_key, &request.device_key)?;
            world.quectel.ota.auto.remove(&dk);
            Ok(reply::<()>(OK, "success", None))
        },
    )
    .await
}
