//! Vicohome (ADDX) wire format, written from the seed `vicohome-startOta.md` and the shared README.
//! Requests decode tolerantly (every field optional, numbers accepted for strings, unknown fields
//! ignored); answers encode exactly like the seed's examples (camelCase, no extra fields).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A string field that some clients send as a number.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// An integer field that some clients send as a string.
fn lenient_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(b)),
        _ => None,
    })
}

/// `POST /account/login`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LoginRequest {
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub password: Option<String>,
    #[serde(
        deserialize_with = "lenient_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub login_type: Option<i64>,
}

/// `POST /device/listuserdevices`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListDevicesRequest {
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub language: Option<String>,
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub country_no: Option<String>,
}

/// The fields the vendor's app adds to most requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BaseEntry {
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub app: Option<String>,
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub country_no: Option<String>,
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub language: Option<String>,
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub tenant_id: Option<String>,
}

/// `POST /device/otastart/`, `/device/otastatus/` and `/device/selectsingledevice`: `serialNumber`
/// plus the BaseEntry (the seed's request example).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceRequest {
    #[serde(
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub serial_number: Option<String>,
    #[serde(flatten)]
    pub base: BaseEntry,
}

impl DeviceRequest {
    /// The serial number, unless missing or blank.
    pub fn serial(&self) -> Option<&str> {
        self.serial_number
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// Decodes a request body; a body that is not a JSON object counts as an empty request (the handler
/// then answers "invalid parameters" where something was required).
pub fn decode<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> T {
    serde_json::from_slice(body).unwrap_or_default()
}

/// Every answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub result: i64,
    pub msg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

/// `data` of `POST /account/login`: `data.token.token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginData {
    pub token: TokenData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenData {
    pub token: String,
}

/// One camera in `/device/listuserdevices` (`data.list[]`) and `/device/selectsingledevice` (`data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub serial_number: String,
    pub model_no: String,
    pub device_name: String,
    pub battery_level: u8,
    pub signal_strength: i32,
    /// 0/1.
    pub is_charging: u8,
    pub ip: String,
    pub mac_address: String,
    /// 0/1.
    pub online: u8,
    pub firmware_id: String,
    pub newest_firmware_id: String,
    /// 0 up to date, 1 update available; only in `selectsingledevice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_status: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceListData {
    pub list: Vec<DeviceInfo>,
}

/// `data` of `/device/otastart/` and `/device/otastatus/`, as in the seed's response example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtaStatusData {
    pub in_progress: bool,
    /// 0 not started, 1 downloading, 2 installing, 3 complete, 4 download failed, 5 install failed.
    pub ota_status: i32,
    pub serial_number: String,
    /// General device status (1 = normal).
    pub status: i32,
    pub total_size: u64,
    pub transferred_size: u64,
    /// Only in status answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_firmware: Option<String>,
}
