//! Vicohome (ADDX) camera cloud: wire types, client, error catalogue.

pub mod client;
pub mod errors;
pub mod wire;

pub use client::VicohomeClient;

use crate::retry::RetryPolicy;

/// What the client sends as BaseEntry and list parameters, and how patiently it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VicohomeOptions {
    pub app: String,
    pub country_no: String,
    pub language: String,
    pub tenant_id: String,
    /// For reads only (device list, status); starting an update is never repeated automatically.
    pub retry: RetryPolicy,
}

impl Default for VicohomeOptions {
    fn default() -> Self {
        Self {
            app: "vicohome".into(),
            country_no: "US".into(),
            language: "en".into(),
            tenant_id: "vicohome".into(),
            retry: RetryPolicy::default(),
        }
    }
}
