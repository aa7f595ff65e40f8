//! Quectel's Bluetooth OTA, where the app carries the package: `getFetchPlan` offers the open plan's
//! package (served by the simulator, its SHA-256 in `fileSign`) and `reportUpgradeStatus` moves the
//! device along as the app reports.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::accounts::signed_in;
use super::ota::{DevicePlan, CANCELLED, FAILED, SUCCEEDED, UPGRADE_NOW, UPGRADING};
use super::request::{
    json_body, named_device, parameter_error, queried_device, queried_target, query_params,
    PLAN_QUERY,
};
use super::{failure, reply, FETCH_PLAN, NOT_FOUND, OK, REPORT_STATUS};
use crate::gateway::CloudReply;
use crate::world::Sim;

/// `reportUpgradeStatus` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportRequest {
    product_key: String,
    device_key: String,
    component_no: String,
    report_status: i64,
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

pub(super) async fn fetch_plan(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = query_params(query.as_deref());
    let target = queried_target(&params, PLAN_QUERY);
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    signed_in(
        &sim,
        &headers,
        FETCH_PLAN,
        target,
        Ok(params),
        |world, params| {
            world.settle();
            let (_, dk) = queried_device(world, &params, PLAN_QUERY)?;
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
            Ok(reply(OK, "success", data))
        },
    )
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

pub(super) async fn report_status(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: Result<ReportRequest, CloudReply> = json_body(&headers, &body);
    let target = request.as_ref().ok().map(|r| r.device_key.clone());
    signed_in(
        &sim,
        &headers,
        REPORT_STATUS,
        target,
        request,
        |world, request| {
            world.settle();
            let (_, dk) = named_device(world, &request.product_key, &request.device_key)?;
            let status = request.report_status;
            if !(0..=12).contains(&status) {
                return Err(parameter_error(
                    "reportStatus must be a number from 0 to 12",
                ));
            }
            let Some(plan) = world.quectel.ota.open_for(&dk) else {
                return Err(failure(NOT_FOUND, "no open upgrade plan for this device"));
            };
            if request.component_no.trim() != plan.com_type.to_string() {
                return Err(parameter_error("componentNo does not match the plan"));
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
            Ok(reply::<()>(OK, "success", None))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::super::ota::fixtures::device;
    use super::*;

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
