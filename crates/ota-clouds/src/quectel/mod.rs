//! Quectel Developer Center (Acceleronix) end-user API. One module per concern: the endpoint table, wire
//! types, errors, the signed-in client, and the device list. (Upgrade plans, auto-upgrade and BLE updates
//! get their own modules next to these.)

pub mod client;
pub mod devices;
pub mod endpoints;
pub mod errors;
pub mod wire;

pub use client::QuectelClient;
pub use endpoints::{Endpoint, Method};
