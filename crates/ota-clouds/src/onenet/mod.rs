//! OneNET (China Mobile): security-authentication tokens, wire types, the client, device-side OTA
//! (check, resumable MD5-verified fetch, result reports). `service` runs them for the window and
//! `otactl` through the engine's `OnenetDeviceApi` (`device_api`).

pub mod client;
mod device_api;
pub mod errors;
pub mod fetch;
pub mod ids;
pub mod ota;
pub mod results;
pub mod service;
mod task_store;
pub mod token;
pub mod wire;

pub use client::OnenetClient;
pub use token::{sign, Resource, TokenError, TokenMethod, TokenRequest};
