//! Quectel's manual upgrade plans as the end user acts on them: read a device's plan
//! (`getDeviceUpgradePlan`), confirm / appoint / cancel / retry in a batch (`userBatchConfirmUpgrade`)
//! and read a batch's plans back (`getBatchUpgradeDetails`).
//!
//! Every accepted `userBatchConfirmUpgrade` item with operType 1, 2 or 5 (in `successList`) counts as one
//! start of its device in `GET /_sim/starts`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::accounts::signed_in;
use super::ota::{
    confirm_status_desc, device_status_desc, wall_ms, DevicePlan, Plan, ALREADY_LATEST, APPOINTED,
    CANCELLED, FAILED, MIN_APPOINTMENT_MS, NOT_UPGRADED, SUCCEEDED, UPGRADE_NOW, UPGRADING,
};
use super::request::{
    json_body, parameter_error, queried_device, queried_target, query_params, PLAN_QUERY,
};
use super::{reply, BAD_REQUEST, BATCH_CONFIRM, BATCH_DETAILS, GET_PLAN, NOT_FOUND, OK};
use crate::faults::FaultBook;
use crate::fleet::Cloud;
use crate::gateway::CloudReply;
use crate::world::{Sim, World};

const CONFLICT: i64 = 409;

// operType.
const OPER_NOW: i64 = 1;
const OPER_APPOINT: i64 = 2;
const OPER_CANCEL: i64 = 3;
const OPER_RETRY: i64 = 5;

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

pub(super) async fn get_plan(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = query_params(query.as_deref());
    let target = queried_target(&params, PLAN_QUERY);
    signed_in(
        &sim,
        &headers,
        GET_PLAN,
        target,
        Ok(params),
        |world, params| {
            world.settle();
            let (_, dk) = queried_device(world, &params, PLAN_QUERY)?;
            let view = world
                .quectel
                .ota
                .latest_for(&dk)
                .and_then(|plan| plan.devices.get(&dk).map(|d| plan_view(plan, &dk, d)));
            Ok(reply(OK, "success", view))
        },
    )
    .await
}

/// One item of `userBatchConfirmUpgrade`; the appointed window only with operType 2.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmItem {
    product_key: String,
    device_key: String,
    plan_id: i64,
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

pub(super) async fn batch_confirm(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let items: Result<Vec<Value>, CloudReply> = json_body(&headers, &body);
    let target = items.as_ref().ok().and_then(|i| batch_target(i));
    signed_in(
        &sim,
        &headers,
        BATCH_CONFIRM,
        target,
        items,
        |world, items| {
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
                            msg: format!("parameter error: {err}"),
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
            Ok(reply(OK, "success", Some(result)))
        },
    )
    .await
}

/// One item of `getBatchUpgradeDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetailItem {
    product_key: String,
    device_key: String,
    plan_id: i64,
}

pub(super) async fn batch_details(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let items: Result<Vec<Value>, CloudReply> = json_body(&headers, &body);
    let target = items.as_ref().ok().and_then(|i| batch_target(i));
    // Every item must be complete: the cloud validates the list before it reads any plan.
    let items = items.and_then(|items| {
        items
            .iter()
            .map(|raw| DetailItem::deserialize(raw).map_err(parameter_error))
            .collect::<Result<Vec<DetailItem>, CloudReply>>()
    });
    signed_in(
        &sim,
        &headers,
        BATCH_DETAILS,
        target,
        items,
        |world, items| {
            world.settle();
            let views: Vec<PlanView> = items
                .iter()
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
            Ok(reply(OK, "success", Some(views)))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::super::ota::fixtures::plan;
    use super::super::ota::HOUR_MS;
    use super::*;

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
}
