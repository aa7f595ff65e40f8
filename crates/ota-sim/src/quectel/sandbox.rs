//! The sandbox's first minute on Quectel: every product starts with an upgrade plan to its newest
//! firmware, so confirm, appoint, cancel, retry and the Bluetooth flow can be tried at once — as every
//! OneNET device behind its newest firmware starts with a pending task.
//!
//! Per product, the plan names the first [`MEMBERS_PER_PRODUCT`] devices (in fleet order) that run older
//! firmware; the others have no plan until one is published:
//! - MQTT products: the 1st and 3rd wait for confirmation (upgrade now, or appoint a window: the plan
//!   period runs for another [`PERIOD_AHEAD_MS`]), the 2nd failed (deviceStatus 3) an hour ago and can be
//!   retried;
//! - Bluetooth products: every member waits; `getFetchPlan` offers the package, served by the simulator,
//!   with its SHA-256 in `fileSign`.
//!
//! Deterministic per seed: the same fleet gets the same plans, ids, members, states and packages. Only
//! the plan times follow the simulator's wall clock. Seeding sends no cloud call, so the call log and
//! `GET /_sim/starts` start empty.

use super::ota::{add_plan, mark_failed, wall_ms, NewPlan};
use crate::fleet::{Cloud, Transport};
use crate::world::World;

/// Devices per product that start with a plan.
pub const MEMBERS_PER_PRODUCT: usize = 3;
const HOUR_MS: i64 = 3_600_000;
/// How long ago the seeded plans' period began.
const PERIOD_BEHIND_MS: i64 = 24 * HOUR_MS;
/// How long the seeded plans' period still runs: room for any appointed window.
pub const PERIOD_AHEAD_MS: i64 = 14 * 24 * HOUR_MS;
/// When the seeded failure happened.
const FAILED_AGO_MS: f64 = HOUR_MS as f64;
/// The member (0-based, MQTT products only) whose upgrade starts out failed.
const FAILED_MEMBER: usize = 1;

/// Adds the sandbox's plans to a new world. Products with no device behind their newest firmware get
/// none.
pub(crate) fn seed_sandbox_plans(world: &mut World) {
    let wall = wall_ms(world) as i64;
    let products = world.fleet.quectel_products.clone();
    for product in products {
        let members: Vec<String> = world
            .fleet
            .devices
            .iter()
            .filter(|d| {
                d.cloud == Cloud::Quectel
                    && d.product_key.as_deref() == Some(product.product_key.as_str())
                    && d.firmware != product.newest_firmware
            })
            .take(MEMBERS_PER_PRODUCT)
            .map(|d| d.id.clone())
            .collect();
        if members.is_empty() {
            continue;
        }
        let plan = NewPlan {
            plan_name: Some(format!(
                "{} {}",
                product.product_name, product.newest_firmware
            )),
            target_version: product.newest_firmware.clone(),
            product_key: product.product_key.clone(),
            device_keys: Some(members.clone()),
            plan_start_time: Some(wall - PERIOD_BEHIND_MS),
            plan_end_time: Some(wall + PERIOD_AHEAD_MS),
            com_type: None,
        };
        let made = match add_plan(world, plan) {
            Ok(made) => made,
            Err(err) => {
                // Cannot happen for the fleet's own products and devices; a sandbox without this plan
                // still works.
                tracing::warn!(error = %err, product = %product.product_key, "no sandbox plan");
                continue;
            }
        };
        if product.transport == Transport::Mqtt {
            if let Some(failed) = members.get(FAILED_MEMBER) {
                mark_failed(world, made.id, failed, FAILED_AGO_MS);
            }
        }
    }
}
