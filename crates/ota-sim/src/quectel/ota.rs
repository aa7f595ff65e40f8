//! The upgrade plans behind Quectel's OTA endpoints, and each device's part in them.
//!
//! Each device of a plan has a small state machine, evaluated lazily on the simulated clock like every
//! other run in the simulator: a confirmed MQTT device upgrades in [`UPGRADE_MS`] of simulated time; an
//! appointed one starts when its window opens; the `quectel_upgrade_fail` fault makes it fail halfway.
//! Plan times are milliseconds since the Unix epoch on the simulator's own wall clock (the real time it
//! started plus simulated time), so `POST /_sim/clock` moves them too.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::{FaultBook, FaultKind};
use crate::fleet::{Cloud, SplitMix64, Transport};
use crate::world::World;

/// Simulated time a confirmed MQTT device needs to finish its upgrade.
pub const UPGRADE_MS: f64 = 60_000.0;
/// Where a doomed upgrade stops.
pub const FAIL_AT: f64 = 0.5;
pub(super) const HOUR_MS: i64 = 3_600_000;
/// The shortest appointment the cloud accepts.
pub const MIN_APPOINTMENT_MS: i64 = HOUR_MS;
const DEFAULT_PERIOD_BEFORE_MS: i64 = HOUR_MS;
const DEFAULT_PERIOD_AFTER_MS: i64 = 7 * 24 * HOUR_MS;
const PACKAGE_BYTES: usize = 48 * 1024;
const FIRST_PLAN_ID: i64 = 7_310_000_001;

// deviceStatus.
pub(super) const ALREADY_LATEST: i32 = -1;
pub(super) const NOT_UPGRADED: i32 = 0;
pub(super) const UPGRADING: i32 = 1;
pub(super) const SUCCEEDED: i32 = 2;
pub(super) const FAILED: i32 = 3;

// userConfirmStatus.
pub(super) const UNCONFIRMED: i32 = 0;
pub(super) const UPGRADE_NOW: i32 = 1;
pub(super) const APPOINTED: i32 = 2;
pub(super) const CANCELLED: i32 = 3;

pub(super) fn device_status_desc(status: i32) -> &'static str {
    match status {
        ALREADY_LATEST => "already the latest version",
        NOT_UPGRADED => "not upgraded",
        UPGRADING => "upgrading",
        SUCCEEDED => "upgrade succeeded",
        FAILED => "upgrade failed",
        _ => "unknown",
    }
}

pub(super) fn confirm_status_desc(status: i32) -> &'static str {
    match status {
        UNCONFIRMED => "unconfirmed",
        UPGRADE_NOW => "upgrade now",
        APPOINTED => "appointed",
        CANCELLED => "cancelled",
        4 => "result acknowledged",
        _ => "unknown",
    }
}

/// One device's part in a plan.
#[derive(Debug, Clone)]
pub(super) struct DevicePlan {
    pub(super) product_key: String,
    /// Bluetooth devices are upgraded by the app; only its reports move them.
    pub(super) ble: bool,
    pub(super) status: i32,
    pub(super) confirm: i32,
    pub(super) appoint: Option<(i64, i64)>,
    pub(super) auto: bool,
    /// Wall ms at which a waiting device starts by itself (appointment or auto mode).
    pub(super) scheduled: Option<f64>,
    pub(super) started: Option<f64>,
    pub(super) doomed: bool,
    pub(super) progress: f64,
}

impl DevicePlan {
    pub(super) fn start(&mut self, at: f64, faults: &mut FaultBook, device_key: &str) {
        self.status = UPGRADING;
        self.started = Some(at);
        self.scheduled = None;
        self.progress = 0.0;
        self.doomed = faults.hit(FaultKind::QuectelUpgradeFail, Some(device_key));
    }
}

#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) target: String,
    pub(super) start: i64,
    pub(super) end: i64,
    pub(super) com_type: i32,
    pub(super) devices: BTreeMap<String, DevicePlan>,
    pub(super) package: Vec<u8>,
}

impl Plan {
    pub(super) fn in_period(&self, wall: f64) -> bool {
        wall >= self.start as f64 && wall <= self.end as f64
    }

    pub(super) fn file_name(&self) -> String {
        format!("{}_{}.bin", self.name.replace([' ', '/'], "_"), self.target)
    }
}

pub struct OtaState {
    /// Real Unix ms when the simulator started: simulated wall time = this + simulated ms.
    epoch_ms: f64,
    next_id: i64,
    pub(super) plans: Vec<Plan>,
    /// deviceKeys in user auto-confirmation mode.
    pub(super) auto: HashSet<String>,
}

impl Default for OtaState {
    fn default() -> Self {
        Self {
            epoch_ms: crate::clock::unix_ms() as f64,
            next_id: FIRST_PLAN_ID,
            plans: Vec::new(),
            auto: HashSet::new(),
        }
    }
}

impl OtaState {
    /// Takes the device out of every plan it is still only waiting in (nothing started, no appointed
    /// window under way): a new plan replaces those.
    fn supersede(&mut self, device_key: &str) {
        for plan in &mut self.plans {
            let waiting = plan
                .devices
                .get(device_key)
                .is_some_and(|d| d.status == NOT_UPGRADED && d.started.is_none());
            if waiting {
                plan.devices.remove(device_key);
            }
        }
    }

    /// The newest plan naming this device.
    pub(super) fn latest_for(&self, device_key: &str) -> Option<&Plan> {
        self.plans
            .iter()
            .rev()
            .find(|p| p.devices.contains_key(device_key))
    }

    /// The newest plan still open for this device (for the Bluetooth flow).
    pub(super) fn open_for(&mut self, device_key: &str) -> Option<&mut Plan> {
        self.plans.iter_mut().rev().find(|p| {
            p.devices.get(device_key).is_some_and(|d| {
                matches!(d.status, NOT_UPGRADED | UPGRADING) && d.confirm != CANCELLED
            })
        })
    }
}

/// The simulator's wall clock: Unix ms as plan times use them.
pub(crate) fn wall_ms(world: &World) -> f64 {
    world.quectel.ota.epoch_ms + world.now_ms()
}

/// Moves every device plan along to simulated time `now` (ms since start); finished upgrades change the
/// device's firmware. Called from [`World::settle_at`].
pub fn settle(world: &mut World, now: f64) {
    let wall = world.quectel.ota.epoch_ms + now;
    let mut finished = Vec::new();
    {
        let World {
            quectel, faults, ..
        } = world;
        for plan in &mut quectel.ota.plans {
            for (key, device) in plan.devices.iter_mut() {
                if device.ble {
                    continue;
                }
                if device.status == NOT_UPGRADED {
                    if let Some(at) = device.scheduled.filter(|at| wall >= *at) {
                        device.start(at, faults, key);
                    }
                }
                if device.status == UPGRADING {
                    let started = device.started.unwrap_or(wall);
                    let progress = ((wall - started) / UPGRADE_MS).clamp(0.0, 1.0);
                    if device.doomed && progress >= FAIL_AT {
                        device.status = FAILED;
                        device.progress = FAIL_AT;
                    } else if progress >= 1.0 {
                        device.status = SUCCEEDED;
                        device.progress = 1.0;
                        finished.push((key.clone(), plan.target.clone()));
                    } else {
                        device.progress = progress;
                    }
                }
            }
        }
    }
    for (key, firmware) in finished {
        if let Some(device) = world.device_mut(&key) {
            device.firmware = firmware;
        }
    }
}

/// `POST /_sim/quectel/plans`: what a developer would set up in the Developer Center.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewPlan {
    #[serde(default)]
    pub plan_name: Option<String>,
    pub target_version: String,
    pub product_key: String,
    /// Absent: every device of the product.
    #[serde(default)]
    pub device_keys: Option<Vec<String>>,
    #[serde(default)]
    pub plan_start_time: Option<i64>,
    #[serde(default)]
    pub plan_end_time: Option<i64>,
    #[serde(default)]
    pub com_type: Option<i32>,
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    #[error("no Quectel product {0}")]
    UnknownProduct(String),
    #[error("{key} is not a device of product {product}")]
    NotInProduct { key: String, product: String },
    #[error("planEndTime must be after planStartTime")]
    EmptyPeriod,
}

/// A plan just made: its id and period, the simulator's wall ms, and each device's first state.
pub(crate) struct MadePlan {
    pub id: i64,
    pub start: i64,
    pub end: i64,
    pub wall: i64,
    pub devices: Vec<Value>,
}

/// Makes a plan. A device named by a newer plan leaves the older plans it was still waiting in (not
/// started, not appointed to a window that has begun), as a device has one plan to act on at a time.
pub(crate) fn add_plan(world: &mut World, new: NewPlan) -> Result<MadePlan, PlanError> {
    if world.fleet.quectel_product(&new.product_key).is_none() {
        return Err(PlanError::UnknownProduct(new.product_key));
    }
    let member = |d: &crate::fleet::Device| {
        (
            d.id.clone(),
            d.transport == Some(Transport::Ble),
            d.firmware == new.target_version,
        )
    };
    let members: Vec<(String, bool, bool)> = match &new.device_keys {
        Some(keys) => keys
            .iter()
            .map(|key| match world.device(key) {
                Some(d) if d.product_key.as_deref() == Some(new.product_key.as_str()) => {
                    Ok(member(d))
                }
                _ => Err(PlanError::NotInProduct {
                    key: key.clone(),
                    product: new.product_key.clone(),
                }),
            })
            .collect::<Result<_, _>>()?,
        None => world
            .fleet
            .devices
            .iter()
            .filter(|d| {
                d.cloud == Cloud::Quectel
                    && d.product_key.as_deref() == Some(new.product_key.as_str())
            })
            .map(member)
            .collect(),
    };
    let wall = wall_ms(world);
    let start = new
        .plan_start_time
        .unwrap_or(wall as i64 - DEFAULT_PERIOD_BEFORE_MS);
    let end = new
        .plan_end_time
        .unwrap_or(wall as i64 + DEFAULT_PERIOD_AFTER_MS);
    if end <= start {
        return Err(PlanError::EmptyPeriod);
    }
    let seed = world.seed;
    let World {
        quectel, faults, ..
    } = world;
    let ota = &mut quectel.ota;
    let id = ota.next_id;
    ota.next_id += 1;
    let mut devices = BTreeMap::new();
    for (key, ble, latest) in members {
        ota.supersede(&key);
        let mut device = DevicePlan {
            product_key: new.product_key.clone(),
            ble,
            status: if latest { ALREADY_LATEST } else { NOT_UPGRADED },
            confirm: UNCONFIRMED,
            appoint: None,
            auto: false,
            scheduled: None,
            started: None,
            doomed: false,
            progress: 0.0,
        };
        // Auto-confirmation mode: the cloud pushes the plan at once (or when its period opens).
        if !ble && !latest && ota.auto.contains(&key) {
            device.auto = true;
            device.confirm = UPGRADE_NOW;
            if wall >= start as f64 {
                device.start(wall, faults, &key);
            } else {
                device.scheduled = Some(start as f64);
            }
        }
        devices.insert(key, device);
    }
    let listed: Vec<Value> = devices
        .iter()
        .map(|(k, d)| json!({"deviceKey": k, "deviceStatus": d.status, "userConfirmStatus": d.confirm}))
        .collect();
    let package = SplitMix64::stream(seed, id as u64).bytes(PACKAGE_BYTES);
    ota.plans.push(Plan {
        id,
        name: new
            .plan_name
            .unwrap_or_else(|| format!("Upgrade to {}", new.target_version)),
        target: new.target_version,
        start,
        end,
        com_type: new.com_type.unwrap_or(0),
        devices,
        package,
    });
    Ok(MadePlan {
        id,
        start,
        end,
        wall: wall as i64,
        devices: listed,
    })
}

/// Puts a device of a plan into "upgrade failed" (deviceStatus 3) as if an upgrade it was confirmed for
/// had stopped halfway `ago_ms` ago: retryable with operType 5. False when the plan or device is unknown.
pub(crate) fn mark_failed(world: &mut World, plan_id: i64, device_key: &str, ago_ms: f64) -> bool {
    let wall = wall_ms(world);
    let Some(device) = world
        .quectel
        .ota
        .plans
        .iter_mut()
        .find(|p| p.id == plan_id)
        .and_then(|p| p.devices.get_mut(device_key))
    else {
        return false;
    };
    device.confirm = UPGRADE_NOW;
    device.status = FAILED;
    device.started = Some(wall - ago_ms - UPGRADE_MS * FAIL_AT);
    device.doomed = true;
    device.progress = FAIL_AT;
    true
}

/// A plan with one waiting MQTT device `dk` of product `pk`, for the endpoints' own tests.
#[cfg(test)]
pub(super) mod fixtures {
    use super::*;

    pub fn device() -> DevicePlan {
        DevicePlan {
            product_key: "pk".into(),
            ble: false,
            status: NOT_UPGRADED,
            confirm: UNCONFIRMED,
            appoint: None,
            auto: false,
            scheduled: None,
            started: None,
            doomed: false,
            progress: 0.0,
        }
    }

    pub fn plan() -> Plan {
        let mut devices = BTreeMap::new();
        devices.insert("dk".to_string(), device());
        Plan {
            id: 1,
            name: "p".into(),
            target: "2.0".into(),
            start: 0,
            end: 10 * HOUR_MS,
            com_type: 0,
            devices,
            package: vec![1, 2, 3],
        }
    }
}
