//! Domain model shared by the store, the engine, the CLI and (through generated bindings) the window.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The three device clouds the console speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Vicohome,
    Onenet,
    Quectel,
}

impl Cloud {
    pub const ALL: [Cloud; 3] = [Cloud::Vicohome, Cloud::Onenet, Cloud::Quectel];

    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Vicohome => "vicohome",
            Cloud::Onenet => "onenet",
            Cloud::Quectel => "quectel",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Cloud::Vicohome => "Vicohome",
            Cloud::Onenet => "OneNET",
            Cloud::Quectel => "Quectel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "vicohome" => Some(Cloud::Vicohome),
            "onenet" => Some(Cloud::Onenet),
            "quectel" => Some(Cloud::Quectel),
            _ => None,
        }
    }
}

impl std::fmt::Display for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configured cloud account. The credential itself is in the OS keychain, never here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub cloud: Cloud,
    pub base_url: String,
    pub region: Option<String>,
    /// Sign-in name (Vicohome / Quectel e-mail) or OneNET product id. Not a secret.
    pub username: Option<String>,
    /// Created by sandbox mode; its credential comes from the simulator, not the keychain.
    pub sandbox: bool,
    /// The user chose plain http to a non-loopback host (OneNET only); shown in the account list.
    pub allow_http: bool,
    #[ts(type = "number")]
    pub created_at: i64,
}

/// What a user enters to add an account (the secret travels separately, straight to the keychain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewAccount {
    pub name: String,
    pub cloud: Cloud,
    pub base_url: String,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default)]
    pub region: Option<String>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default)]
    pub username: Option<String>,
    /// Plain http to a non-loopback host, chosen explicitly (OneNET only: its documented host is
    /// `http://ota.heclouds.com`).
    #[serde(default)]
    pub allow_http: bool,
}

/// One device as the cloud last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    #[ts(type = "number")]
    pub account_id: i64,
    pub cloud: Cloud,
    /// The id the cloud's API uses: Vicohome serial number, OneNET dev_id, Quectel deviceKey.
    pub id: String,
    /// Quectel productKey or OneNET product id.
    pub product_key: Option<String>,
    pub name: String,
    pub model: String,
    pub manufacturer: Option<String>,
    /// Quectel: "mqtt" or "ble".
    pub transport: Option<String>,
    pub firmware: String,
    /// The newest firmware the cloud offers, when it says.
    pub newest_firmware: Option<String>,
    pub online: bool,
    pub battery: Option<u8>,
    pub signal: Option<i32>,
    /// When this row was last confirmed by the cloud (Unix ms).
    #[ts(type = "number")]
    pub refreshed_at: i64,
    /// Local tags (sorted); kept across fleet refreshes.
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    #[default]
    All,
    Online,
    Offline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum DeviceSort {
    #[default]
    Name,
    Id,
    Cloud,
    Model,
    Firmware,
    Battery,
    Online,
}

/// A page of the device list: filter, sort and window.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceQuery {
    /// Substring of the id, name or model (case-insensitive).
    pub search: String,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud>,
    pub status: StatusFilter,
    pub sort: DeviceSort,
    pub descending: bool,
    pub offset: u32,
    /// 0 means the default page size.
    pub limit: u32,
    /// Only devices having this tag.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Only devices of this cohort (its list, or its filter's current matches).
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohort_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DevicePage {
    /// Rows matching the filter (all pages): exact, unless `matching_at_least` says it is a floor.
    pub matching: u32,
    /// True when counting stopped at the cap (`store::COUNT_CAP`): at least `matching` rows match
    /// ("10 000+ devices"), and pages go on until one comes back short.
    #[serde(default)]
    pub matching_at_least: bool,
    /// Rows in the cache, unfiltered (always exact).
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<Device>,
}

/// How fresh the fleet in the cache is, per account and overall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccountFreshness {
    #[ts(type = "number")]
    pub account_id: i64,
    pub account_name: String,
    pub cloud: Cloud,
    /// Last successful fetch (Unix ms).
    #[ts(type = "number | null")]
    pub refreshed_at: Option<i64>,
    /// Last attempt (Unix ms), successful or not.
    #[ts(type = "number | null")]
    pub attempted_at: Option<i64>,
    /// Why the last attempt failed; absent when it succeeded.
    pub error: Option<crate::ApiError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetFreshness {
    /// True when every account's last attempt succeeded: the list is what the clouds say now.
    pub live: bool,
    /// Oldest successful fetch among the accounts shown (Unix ms).
    #[ts(type = "number | null")]
    pub oldest_refresh: Option<i64>,
    pub accounts: Vec<AccountFreshness>,
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
