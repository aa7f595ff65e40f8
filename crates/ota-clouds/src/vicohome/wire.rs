//! Vicohome (ADDX) wire format, from the seed `vicohome-startOta.md` and the shared README.
//!
//! Requests encode exactly as documented (camelCase, no extra fields). Answers decode tolerantly: unknown
//! fields are ignored, numbers may come as strings, booleans as 0/1, and `code` stands in for `result`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient;

/// `POST /account/login`. `Debug` never shows the password.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// 0 = e-mail and password.
    pub login_type: i32,
}

impl std::fmt::Debug for LoginRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("email", &self.email)
            .field("password", &format_args!("<redacted>"))
            .field("login_type", &self.login_type)
            .finish()
    }
}

/// `POST /device/listuserdevices`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDevicesRequest<'a> {
    pub language: &'a str,
    pub country_no: &'a str,
}

/// `POST /device/selectsingledevice` and `POST /device/otastatus/`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SerialRequest<'a> {
    pub serial_number: &'a str,
}

/// The fields the vendor's app adds to most requests.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaseEntry<'a> {
    pub app: &'a str,
    pub country_no: &'a str,
    pub language: &'a str,
    pub tenant_id: &'a str,
}

/// `POST /device/otastart/`: `serialNumber` plus the BaseEntry, as in the seed's request example.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartOtaRequest<'a> {
    pub serial_number: &'a str,
    #[serde(flatten)]
    pub base: BaseEntry<'a>,
}

/// Every answer: `{"result": int, "msg": str, "data": ...}`; 0 is success, negative an error. `Debug`
/// leaves `data` out: a sign-in answer carries the session token there.
#[derive(Clone, Default, Deserialize)]
pub struct Envelope {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub result: Option<i64>,
    /// Some builds answer `code` instead of `result`.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub code: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub msg: Option<String>,
    #[serde(default)]
    pub data: Option<Value>,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("result", &self.result)
            .field("code", &self.code)
            .field("msg", &self.msg)
            .field(
                "data",
                &self.data.is_some().then_some(format_args!("<redacted>")),
            )
            .finish()
    }
}

impl Envelope {
    /// The outcome code: `result`, or `code` when `result` is absent. `None` means this is not an envelope.
    pub fn outcome(&self) -> Option<i64> {
        self.result.or(self.code)
    }

    /// `data` unless it is absent or null.
    pub fn data(&self) -> Option<&Value> {
        self.data.as_ref().filter(|d| !d.is_null())
    }

    /// `data` unless it is absent or null, handed over rather than copied (a device list is megabytes).
    pub fn into_data(self) -> Option<Value> {
        self.data.filter(|d| !d.is_null())
    }
}

/// `data` of a successful sign-in: `data.token.token`. Some builds put the token string at `data.token`.
/// `Debug` never shows the token.
#[derive(Clone, Default, Deserialize)]
pub struct LoginData {
    #[serde(default)]
    pub token: Option<Value>,
}

impl std::fmt::Debug for LoginData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginData")
            .field(
                "token",
                &self.token.is_some().then_some(format_args!("<redacted>")),
            )
            .finish()
    }
}

impl LoginData {
    pub fn token(&self) -> Option<String> {
        let token = match self.token.as_ref()? {
            Value::String(s) => s.clone(),
            Value::Object(obj) => obj.get("token")?.as_str()?.to_string(),
            _ => return None,
        };
        (!token.trim().is_empty()).then_some(token)
    }
}

/// One camera as `listuserdevices` (in `data.list[]`) and `selectsingledevice` (in `data`) describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub serial_number: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub device_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub model_no: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub firmware_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub newest_firmware_id: Option<String>,
    /// 0 = up to date.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub firmware_status: Option<i64>,
    /// 0/1 or a boolean; absent means the cloud did not say (taken as online).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub online: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub battery_level: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub signal_strength: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub is_charging: Option<bool>,
}

/// `data` of `listuserdevices`: `{"list": [...]}` (a bare array is accepted too). Entries that are not
/// objects are skipped rather than failing the whole list.
pub fn device_list(data: &Value) -> Option<Vec<DeviceInfo>> {
    device_list_owned(data.clone())
}

/// [`device_list`] taking the answer over: each entry's strings are moved, not copied.
pub fn device_list_owned(data: Value) -> Option<Vec<DeviceInfo>> {
    let entries = match data {
        Value::Array(items) => items,
        Value::Object(mut obj) => match obj.remove("list") {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => return Some(Vec::new()),
            Some(_) => return None,
        },
        _ => return None,
    };
    Some(
        entries
            .into_iter()
            .filter_map(|entry| DeviceInfo::deserialize(entry).ok())
            .collect(),
    )
}

/// `data` of `otastart/` and `otastatus/`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtaStatusData {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub in_progress: Option<bool>,
    /// 0 not started, 1 downloading, 2 installing, 3 complete, 4/5 failed.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub ota_status: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub serial_number: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub status: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub total_size: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub transferred_size: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub target_firmware: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The seed's request example, verbatim.
    const SEED_REQUEST: &str = r#"{
      "serialNumber": "ABC123456789",
      "app": "vicohome",
      "countryNo": "US",
      "language": "en",
      "tenantId": "AAA12345678"
    }"#;

    /// The seed's response example, verbatim.
    const SEED_RESPONSE: &str = r#"{
      "result": 0,
      "msg": "success",
      "data": {
        "inProgress": true,
        "otaStatus": 0,
        "serialNumber": "ABC123456789",
        "status": 1,
        "totalSize": 15728640,
        "transferredSize": 0
      }
    }"#;

    #[test]
    fn start_request_encodes_exactly_as_the_seed() {
        let request = StartOtaRequest {
            serial_number: "ABC123456789",
            base: BaseEntry {
                app: "vicohome",
                country_no: "US",
                language: "en",
                tenant_id: "AAA12345678",
            },
        };
        let ours = serde_json::to_value(&request).unwrap();
        let seed: Value = serde_json::from_str(SEED_REQUEST).unwrap();
        assert_eq!(ours, seed);
    }

    #[test]
    fn start_response_decodes_the_seed() {
        let envelope: Envelope = serde_json::from_str(SEED_RESPONSE).unwrap();
        assert_eq!(envelope.outcome(), Some(0));
        assert_eq!(envelope.msg.as_deref(), Some("success"));
        let data = OtaStatusData::deserialize(envelope.data().unwrap()).unwrap();
        assert_eq!(
            data,
            OtaStatusData {
                in_progress: Some(true),
                ota_status: Some(0),
                serial_number: Some("ABC123456789".into()),
                status: Some(1),
                total_size: Some(15_728_640),
                transferred_size: Some(0),
                target_firmware: None,
            }
        );
    }

    #[test]
    fn other_requests_encode_exactly() {
        let login = serde_json::to_value(LoginRequest {
            email: "a@b.c",
            password: "pw",
            login_type: 0,
        })
        .unwrap();
        assert_eq!(
            login,
            json!({"email": "a@b.c", "password": "pw", "loginType": 0})
        );
        let list = serde_json::to_value(ListDevicesRequest {
            language: "en",
            country_no: "US",
        })
        .unwrap();
        assert_eq!(list, json!({"language": "en", "countryNo": "US"}));
        let serial = serde_json::to_value(SerialRequest {
            serial_number: "S1",
        })
        .unwrap();
        assert_eq!(serial, json!({"serialNumber": "S1"}));
    }

    #[test]
    fn envelope_alternatives() {
        let coded: Envelope = serde_json::from_value(json!({"code": -103, "msg": "low"})).unwrap();
        assert_eq!(coded.outcome(), Some(-103));
        let stringly: Envelope =
            serde_json::from_value(json!({"result": "-1027", "data": null})).unwrap();
        assert_eq!(stringly.outcome(), Some(-1027));
        assert!(stringly.data().is_none());
        let neither: Envelope = serde_json::from_value(json!({"hello": 1})).unwrap();
        assert_eq!(neither.outcome(), None);
    }

    #[test]
    fn status_accepts_numeric_booleans_and_target() {
        let data: OtaStatusData = serde_json::from_value(json!({
            "inProgress": 1, "otaStatus": "2", "totalSize": 10, "transferredSize": 10,
            "targetFirmware": "2.1.0", "extra": {"ignored": true}
        }))
        .unwrap();
        assert_eq!(data.in_progress, Some(true));
        assert_eq!(data.ota_status, Some(2));
        assert_eq!(data.target_firmware.as_deref(), Some("2.1.0"));
    }

    #[test]
    fn login_token_shapes() {
        let nested: LoginData =
            serde_json::from_value(json!({"token": {"token": "abc", "expire": 1}})).unwrap();
        assert_eq!(nested.token().as_deref(), Some("abc"));
        let flat: LoginData = serde_json::from_value(json!({"token": "xyz"})).unwrap();
        assert_eq!(flat.token().as_deref(), Some("xyz"));
        let blank: LoginData = serde_json::from_value(json!({"token": {"token": " "}})).unwrap();
        assert_eq!(blank.token(), None);
    }

    #[test]
    fn device_list_shapes() {
        let data = json!({"list": [
            {"serialNumber": "S1", "deviceName": "Porch", "modelNo": "CG1", "batteryLevel": 80,
             "signalStrength": -60, "isCharging": 0, "ip": "10.0.0.2", "online": 1},
            "garbage",
            {"serialNumber": "S2"}
        ]});
        let list = device_list(&data).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].online, Some(true));
        assert_eq!(list[0].battery_level, Some(80));
        assert_eq!(list[1].device_name, None);
        assert_eq!(
            device_list(&json!([{"serialNumber": "S3"}])).unwrap().len(),
            1
        );
        assert_eq!(device_list(&json!({"total": 0})).unwrap().len(), 0);
        assert!(device_list(&json!("nope")).is_none());
    }

    #[test]
    fn debug_never_shows_the_password_or_the_session_token() {
        let login = LoginRequest {
            email: "tech@example.com",
            password: "hunter2-pw",
            login_type: 0,
        };
        let shown = format!("{login:?}");
        assert!(!shown.contains("hunter2-pw"), "{shown}");
        assert!(shown.contains("tech@example.com") && shown.contains("<redacted>"));

        let answer =
            json!({"result": 0, "msg": "success", "data": {"token": {"token": "tok-SECRET-1"}}});
        let envelope: Envelope = serde_json::from_value(answer.clone()).unwrap();
        let shown = format!("{envelope:?}");
        assert!(!shown.contains("tok-SECRET-1"), "{shown}");
        assert!(
            shown.contains("success"),
            "the outcome stays readable: {shown}"
        );
        let data: LoginData = serde_json::from_value(answer["data"].clone()).unwrap();
        assert_eq!(data.token().as_deref(), Some("tok-SECRET-1"));
        assert!(!format!("{data:?}").contains("tok-SECRET-1"));
    }
}
