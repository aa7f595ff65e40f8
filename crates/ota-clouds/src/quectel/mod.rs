//! Quectel Developer Center (Acceleronix) end-user API. One module per concern: the endpoint table, wire
//! types, errors, the signed-in client, the device list, upgrade plans of MQTT devices, the auto-upgrade
//! switch and Bluetooth updates; `service` runs them for the window and `otactl` through the engine's
//! `QuectelEndUserApi` (`end_user_api`). The data those calls hand over are `ota_core::quectel`'s
//! (re-exported here); `answers` decodes the cloud's JSON into them.

pub(crate) mod answers;
pub mod auto_upgrade;
pub mod ble;
pub mod client;
pub mod devices;
mod end_user_api;
pub mod endpoints;
pub mod errors;
pub mod plans;
pub mod service;
pub mod wire;

pub use ble::{BlePlan, BleReportStatus, PackageLimits, VerifiedPackage};
pub use client::QuectelClient;
pub use endpoints::{Endpoint, Method};
pub use plans::{BatchOutcome, PlanAction, PlanTarget, UpgradePlan};
