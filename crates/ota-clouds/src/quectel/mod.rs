//! Quectel Developer Center (Acceleronix) end-user API. One module per concern: the endpoint table, wire
//! types, errors, the signed-in client, the device list, upgrade plans of MQTT devices, the auto-upgrade
//! switch and Bluetooth updates; `service` runs them for the window and `otactl`.

pub mod auto_upgrade;
pub mod ble;
pub mod client;
pub mod devices;
pub mod endpoints;
pub mod errors;
pub mod plans;
pub mod service;
pub mod wire;

pub use ble::{BlePlan, BleReportStatus, PackageLimits, VerifiedPackage};
pub use client::QuectelClient;
pub use endpoints::{Endpoint, Method};
pub use plans::{BatchOutcome, PlanAction, PlanTarget, UpgradePlan};
