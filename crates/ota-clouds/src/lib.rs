//! Cloud clients of OTA Console: one module per cloud (wire types, HTTP client, error catalogue), the shared
//! HTTP plumbing, and the [`CloudConnector`] the engine uses to build signed-in sessions.
//!
//! Wire structs are written from the vendors' documents (`/work/shared/seeds`, the shared README); they
//! decode tolerantly (unknown fields ignored, documented alternatives accepted) and encode exactly.

pub mod connector;
mod download_files;
pub mod fleet_updates;
pub mod http;
mod lenient;
pub mod onenet;
pub mod quectel;
pub mod ratelimit;
pub mod retry;
pub mod sandbox;
pub mod sandbox_admin;
pub mod vicohome;

#[cfg(test)]
mod fuzz_tests;

pub use connector::CloudConnector;
pub use http::HttpConfig;
pub use onenet::token::TokenError;
pub use retry::RetryPolicy;
pub use sandbox::{sandbox_accounts, SandboxAccount};
pub use vicohome::VicohomeOptions;
