//! Vicohome (ADDX) wire format, written from the seed `vicohome-startOta.md` and the shared README.
//!
//! Requests decode strictly, as the cloud takes them: a JSON body (`Content-Type: application/json`) with
//! the documented names and types, every documented field required; unknown fields are ignored, as a JSON
//! server does. Anything else is "invalid parameters" (-2), see [`decode`]. Answers encode exactly like
//! the seed's examples (camelCase, no extra fields).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// `POST /account/login`: `{"email", "password", "loginType": 0}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// 0 = e-mail and password (the only kind the simulator offers).
    pub login_type: i64,
}

/// `POST /device/listuserdevices`: `{"language", "countryNo"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDevicesRequest {
    pub language: String,
    pub country_no: String,
}

/// The fields the vendor's app adds to its requests (the seed's "standard BaseEntry properties"). The
/// seed's parameter table marks only `serialNumber` as required, so a start without them is accepted;
/// present, each must be a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaseEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

/// `POST /device/otastart/`: `serialNumber` (required) plus the BaseEntry, as in the seed's request example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartOtaRequest {
    pub serial_number: String,
    #[serde(flatten)]
    pub base: BaseEntry,
}

/// `POST /device/otastatus/` and `POST /device/selectsingledevice`: `{"serialNumber"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRequest {
    pub serial_number: String,
}

/// Why a request body was refused; the cloud answers -2 "invalid parameters" with this as detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("Content-Type must be application/json, not {0}")]
    NotJson(String),
    #[error("{0}")]
    Unreadable(String),
}

/// True for `application/json`, with or without parameters such as `;charset=UTF-8`.
pub fn is_json_media_type(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Decodes a request body the way the cloud does: JSON only, documented names and types.
pub fn decode<T: DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<T, BodyError> {
    if !is_json_media_type(content_type) {
        return Err(BodyError::NotJson(
            content_type.unwrap_or("none").to_string(),
        ));
    }
    serde_json::from_slice(body).map_err(|err| BodyError::Unreadable(err.to_string()))
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
    /// The seed's values: 0 not started, 1 downloading, 2 installing, 3 complete, 4 error (failure),
    /// 5 error (another type of failure).
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
