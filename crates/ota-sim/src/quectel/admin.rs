//! The simulator's own Quectel routes under `/_sim/quectel/` (test-only, like `admin`: no faults, no
//! call log; errors are `{"error": "..."}`): `POST /_sim/quectel/plans` makes an upgrade plan (no public
//! management API is known), and `GET /_sim/quectel/packages/{plan_id}` serves the package a Bluetooth
//! plan's `fileUrl` points at.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::ota::{add_plan, NewPlan, PlanError};
use crate::world::Sim;

fn admin_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

pub(super) async fn create_plan(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let new: NewPlan = match serde_json::from_slice(&body) {
        Ok(new) => new,
        Err(err) => {
            return admin_error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {err}"))
        }
    };
    let mut world = sim.lock();
    world.settle();
    match add_plan(&mut world, new) {
        Ok(made) => (
            StatusCode::CREATED,
            Json(json!({
                "planId": made.id,
                "planStartTime": made.start,
                "planEndTime": made.end,
                "nowMs": made.wall,
                "devices": made.devices,
            })),
        )
            .into_response(),
        Err(err @ PlanError::UnknownProduct(_)) => {
            admin_error(StatusCode::NOT_FOUND, err.to_string())
        }
        Err(err) => admin_error(StatusCode::BAD_REQUEST, err.to_string()),
    }
}

/// The package a Bluetooth plan's `fileUrl` points at (a CDN in the real service: no token needed).
pub(super) async fn package(State(sim): State<Arc<Sim>>, Path(plan_id): Path<i64>) -> Response {
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
