//! Quectel Developer Center (Acceleronix) end-user API wire format, from the seed and the shared README.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient;

/// Stands in for a secret in `Debug` output.
pub(crate) struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `emailPwdLogin` form. `Debug` never shows the password.
#[derive(Clone, Serialize)]
pub struct LoginForm<'a> {
    pub email: &'a str,
    pub pwd: &'a str,
}

impl std::fmt::Debug for LoginForm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm")
            .field("email", &self.email)
            .field("pwd", &Redacted)
            .finish()
    }
}

/// `refreshToken` form. `Debug` never shows the token.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshForm<'a> {
    pub refresh_token: &'a str,
}

impl std::fmt::Debug for RefreshForm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshForm")
            .field("refresh_token", &Redacted)
            .finish()
    }
}

/// `userDeviceList` query.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceListQuery {
    /// 1-based.
    pub page_number: u32,
    pub page_size: u32,
}

/// Every answer: `{"code": 200, "msg", "data", "extMsg"}`. Some docs show `code` 0 for success. `Debug`
/// leaves `data` out: sign-in and refresh answers carry the tokens there.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub code: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub msg: Option<String>,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ext_msg: Option<String>,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("code", &self.code)
            .field("msg", &self.msg)
            .field("data", &self.data.as_ref().map(|_| Redacted))
            .field("ext_msg", &self.ext_msg)
            .finish()
    }
}

impl Envelope {
    pub fn is_success(&self) -> bool {
        matches!(self.code, Some(200) | Some(0))
    }

    pub fn data(&self) -> Option<&Value> {
        self.data.as_ref().filter(|d| !d.is_null())
    }

    /// `data` unless it is absent or null, handed over rather than copied (a device list is megabytes).
    pub fn into_data(self) -> Option<Value> {
        self.data.filter(|d| !d.is_null())
    }

    /// The most telling text the cloud gave: `msg`, else `extMsg`.
    pub fn description(&self) -> Option<&str> {
        [self.msg.as_deref(), self.ext_msg.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|m| !m.is_empty())
    }
}

/// A token with its expiry (`expirationTime`, seconds or milliseconds since the epoch). `Debug` shows only
/// the expiry.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub token: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub expiration_time: Option<i64>,
}

impl std::fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenInfo")
            .field("token", &self.token.as_ref().map(|_| Redacted))
            .field("expiration_time", &self.expiration_time)
            .finish()
    }
}

impl TokenInfo {
    /// Accepts `{"token", "expirationTime"}` or a bare token string.
    pub fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::String(s) => Some(Self {
                token: Some(s.clone()),
                expiration_time: None,
            }),
            Value::Object(_) => Self::deserialize(value).ok(),
            _ => None,
        }
        .filter(|t| t.token.as_deref().is_some_and(|t| !t.trim().is_empty()))
    }

    /// Expiry in Unix milliseconds.
    pub fn expires_at_ms(&self) -> Option<i64> {
        self.expiration_time.filter(|t| *t > 0).map(|t| {
            if t > 100_000_000_000 {
                t
            } else {
                t.saturating_mul(1000)
            }
        })
    }
}

/// `data` of a sign-in or refresh. `Debug` never shows the tokens.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginData {
    #[serde(default)]
    pub access_token: Option<Value>,
    #[serde(default)]
    pub refresh_token: Option<Value>,
}

impl std::fmt::Debug for LoginData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginData")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| Redacted),
            )
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| Redacted),
            )
            .finish()
    }
}

impl LoginData {
    pub fn access(&self) -> Option<TokenInfo> {
        self.access_token.as_ref().and_then(TokenInfo::from_value)
    }

    pub fn refresh(&self) -> Option<TokenInfo> {
        self.refresh_token.as_ref().and_then(TokenInfo::from_value)
    }
}

/// `data` of `userDeviceList`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePage {
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    pub list: Vec<Value>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub total: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64", alias = "pageNumber")]
    pub page_num: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub page_size: Option<i64>,
}

impl DevicePage {
    /// The page's entries; entries that are not objects are skipped.
    pub fn entries(&self) -> Vec<DeviceEntry> {
        self.clone().into_entries()
    }

    /// [`DevicePage::entries`], taking the page over: each entry's strings are moved, not copied.
    pub fn into_entries(self) -> Vec<DeviceEntry> {
        self.list
            .into_iter()
            .filter_map(|v| DeviceEntry::deserialize(v).ok())
            .collect()
    }
}

/// One device of `userDeviceList`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceEntry {
    #[serde(default, deserialize_with = "lenient::opt_string", alias = "pk")]
    pub product_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", alias = "dk")]
    pub device_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub device_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub product_name: Option<String>,
    /// 1 online, 0 offline.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub online_status: Option<i64>,
    /// "mqtt" or "ble".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub device_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub firmware_version: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub battery: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64", alias = "signal")]
    pub signal_strength: Option<i64>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn forms_and_query_encode_exactly() {
        let login = serde_json::to_value(LoginForm {
            email: "a@b.c",
            pwd: "pw",
        })
        .unwrap();
        assert_eq!(login, json!({"email": "a@b.c", "pwd": "pw"}));
        let refresh = serde_json::to_value(RefreshForm { refresh_token: "r" }).unwrap();
        assert_eq!(refresh, json!({"refreshToken": "r"}));
        let query = serde_json::to_value(DeviceListQuery {
            page_number: 2,
            page_size: 100,
        })
        .unwrap();
        assert_eq!(query, json!({"pageNumber": 2, "pageSize": 100}));
        use crate::quectel::endpoints::{assert_sends_row, Endpoint};
        assert_sends_row(Endpoint::EmailPwdLogin, &login);
        assert_sends_row(Endpoint::RefreshToken, &refresh);
        assert_sends_row(Endpoint::UserDeviceList, &query);
    }

    #[test]
    fn envelope_success_codes() {
        let ok: Envelope =
            serde_json::from_value(json!({"code": 200, "msg": "ok", "data": null})).unwrap();
        assert!(ok.is_success() && ok.data().is_none());
        let zero: Envelope = serde_json::from_value(json!({"code": 0})).unwrap();
        assert!(zero.is_success());
        let err: Envelope =
            serde_json::from_value(json!({"code": 5001, "msg": "", "extMsg": "device busy"}))
                .unwrap();
        assert!(!err.is_success());
        assert_eq!(err.description(), Some("device busy"));
    }

    #[test]
    fn login_data_shapes() {
        let data: LoginData = serde_json::from_value(json!({
            "accessToken": {"token": "acc", "expirationTime": 1_700_000_000},
            "refreshToken": {"token": "ref", "expirationTime": 1_700_000_000_000_i64}
        }))
        .unwrap();
        let access = data.access().unwrap();
        assert_eq!(access.token.as_deref(), Some("acc"));
        assert_eq!(access.expires_at_ms(), Some(1_700_000_000_000));
        assert_eq!(
            data.refresh().unwrap().expires_at_ms(),
            Some(1_700_000_000_000)
        );
        let bare: LoginData = serde_json::from_value(json!({"accessToken": "acc"})).unwrap();
        assert_eq!(bare.access().unwrap().token.as_deref(), Some("acc"));
        assert!(bare.refresh().is_none());
    }

    #[test]
    fn device_page_tolerates_odd_entries() {
        let page: DevicePage = serde_json::from_value(json!({
            "list": [
                {"productKey": "p1", "deviceKey": "d1", "deviceName": "Meter", "productName": "EC200",
                 "onlineStatus": 1, "deviceType": "ble", "firmwareVersion": "1.0", "battery": 70,
                 "signalStrength": -80, "unknown": [1]},
                42
            ],
            "total": "2", "pageNum": 1, "pageSize": 100
        }))
        .unwrap();
        let entries = page.entries();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].online_status, Some(1));
        assert_eq!(page.total, Some(2));
        let empty: DevicePage = serde_json::from_value(json!({"list": null})).unwrap();
        assert!(empty.entries().is_empty());
    }

    #[test]
    fn debug_never_shows_the_password_or_the_tokens() {
        let login = LoginForm {
            email: "fleet@example.com",
            pwd: "q-SECRET-pw",
        };
        let shown = format!("{login:?}");
        assert!(!shown.contains("q-SECRET-pw"), "{shown}");
        assert!(shown.contains("fleet@example.com"));
        let refresh = RefreshForm {
            refresh_token: "qr-SECRET",
        };
        assert!(!format!("{refresh:?}").contains("qr-SECRET"));

        let answer = json!({"code": 200, "msg": "success", "data": {
            "accessToken": {"token": "qa-SECRET", "expirationTime": 1_700_000_000},
            "refreshToken": {"token": "qr-SECRET", "expirationTime": 1_700_000_000}}});
        let envelope: Envelope = serde_json::from_value(answer.clone()).unwrap();
        let data: LoginData = serde_json::from_value(answer["data"].clone()).unwrap();
        let access = data.access().unwrap();
        for shown in [
            format!("{envelope:?}"),
            format!("{data:?}"),
            format!("{access:?}"),
        ] {
            assert!(
                !shown.contains("qa-SECRET") && !shown.contains("qr-SECRET"),
                "{shown}"
            );
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        assert!(
            format!("{access:?}").contains("1700000000"),
            "the expiry stays readable"
        );
    }
}
