//! OneNET wire format: the `{errno, error, data}` envelope (HTTP 200 even for errors), the device-side
//! OTA calls (check, token check, report) as the seed and OneNET's SDK notes describe them, and the
//! sandbox device listing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Envelope {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub errno: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub error: Option<String>,
    #[serde(default)]
    pub data: Option<Value>,
}

impl Envelope {
    pub fn data(&self) -> Option<&Value> {
        self.data.as_ref().filter(|d| !d.is_null())
    }

    /// `data` unless it is absent or null, handed over rather than copied (a device list is megabytes).
    pub fn into_data(self) -> Option<Value> {
        self.data.filter(|d| !d.is_null())
    }
}

/// `GET /_sim/onenet/devices?product_id=P` (the simulator's stand-in for a listing OneNET lacks).
#[derive(Debug, Clone, Serialize)]
pub struct DeviceListQuery<'a> {
    pub product_id: &'a str,
}

/// `data` of the sandbox listing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeviceListData {
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    pub devices: Vec<Value>,
}

impl DeviceListData {
    pub fn entries(&self) -> Vec<DeviceEntry> {
        self.clone().into_entries()
    }

    /// [`DeviceListData::entries`], taking the list over: each entry's strings are moved, not copied.
    pub fn into_entries(self) -> Vec<DeviceEntry> {
        self.devices
            .into_iter()
            .filter_map(|v| DeviceEntry::deserialize(v).ok())
            .collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct DeviceEntry {
    /// Numeric device id (sent as a number or a string).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub dev_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    /// Manufacturer number (e.g. 102 = nordic) or name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub manuf: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub version: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub online: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub battery: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub signal: Option<i64>,
}

/// `GET /ota/south/check` and `GET /ota/south/tasking`. manuf/model are left out when unknown, as the
/// module SDK does.
#[derive(Debug, Clone, Serialize)]
pub struct CheckQuery<'a> {
    pub dev_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manuf: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'a str>,
    /// 1 = module (FOTA), 2 = application (SOTA).
    #[serde(rename = "type")]
    pub task_type: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    pub cdn: bool,
}

/// `data` of a check: `{target, token, size, md5, signal, power, retry, interval, type}`. Its `Debug`
/// hides the download token: for two days it grants the package to whoever holds it.
#[derive(Clone, Default, Deserialize)]
pub struct CheckData {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub target: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub token: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub size: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub md5: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub signal: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub power: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub retry: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub interval: Option<i64>,
    /// 1 = full package, 2 = difference package.
    #[serde(rename = "type", default, deserialize_with = "lenient::opt_i64")]
    pub package_type: Option<i64>,
}

impl std::fmt::Debug for CheckData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckData")
            .field("target", &self.target)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("size", &self.size)
            .field("md5", &self.md5)
            .field("signal", &self.signal)
            .field("power", &self.power)
            .field("retry", &self.retry)
            .field("interval", &self.interval)
            .field("package_type", &self.package_type)
            .finish()
    }
}

/// `?dev_id=` alone (token check, version).
#[derive(Debug, Clone, Serialize)]
pub struct DevQuery<'a> {
    pub dev_id: &'a str,
}

/// `POST /ota/south/report?dev_id=&token=`. Its `Debug` hides the download token.
#[derive(Clone, Serialize)]
pub struct ReportQuery<'a> {
    pub dev_id: &'a str,
    pub token: &'a str,
}

impl std::fmt::Debug for ReportQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportQuery")
            .field("dev_id", &self.dev_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportBody {
    pub result: u16,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_seeds_check_answer_decodes() {
        // The seed's example, byte for byte.
        let body = r#"{
    "errno": 0,
    "error": "succ",
    "data": {
        "target": "V1",
        "token": "ota_iF0hnXrq2CxLrP8vZ39l",
        "size": 22,
        "md5": "ad2f4e4ea2a27eace7e4913139f8f01a",
        "signal": 10,
        "power": 50,
        "retry": 0,
        "interval": 0,
        "type": 1
    }
}"#;
        let envelope: Envelope = serde_json::from_str(body).unwrap();
        assert_eq!(envelope.errno, Some(0));
        let data = CheckData::deserialize(envelope.data().unwrap()).unwrap();
        assert_eq!(data.target.as_deref(), Some("V1"));
        assert_eq!(data.token.as_deref(), Some("ota_iF0hnXrq2CxLrP8vZ39l"));
        assert!(!format!("{data:?}").contains("ota_iF0hnXrq2CxLrP8vZ39l"));
        let query = ReportQuery {
            dev_id: "527776559",
            token: "ota_iF0hnXrq2CxLrP8vZ39l",
        };
        assert!(!format!("{query:?}").contains("ota_iF0"));
        assert_eq!(data.size, Some(22));
        assert_eq!(
            data.md5.as_deref(),
            Some("ad2f4e4ea2a27eace7e4913139f8f01a")
        );
        assert_eq!((data.signal, data.power), (Some(10), Some(50)));
        assert_eq!((data.retry, data.interval), (Some(0), Some(0)));
        assert_eq!(data.package_type, Some(1));
    }

    #[test]
    fn the_seeds_check_query_and_report_body_encode() {
        let query = CheckQuery {
            dev_id: "527776559",
            manuf: Some("102"),
            model: Some("10201"),
            task_type: 2,
            version: Some("V1"),
            cdn: false,
        };
        let url = reqwest::Url::parse_with_params(
            "http://ota.heclouds.com/ota/south/check",
            &[("x", "y")],
        )
        .unwrap();
        let mut url = url;
        url.set_query(Some(&serde_urlencoded_like(&query)));
        assert_eq!(
            url.as_str(),
            "http://ota.heclouds.com/ota/south/check?dev_id=527776559&manuf=102&model=10201&type=2&version=V1&cdn=false"
        );
        assert_eq!(
            serde_json::to_string(&ReportBody { result: 201 }).unwrap(),
            r#"{"result":201}"#
        );
    }

    /// The query string reqwest's `.query()` makes (it uses serde_urlencoded).
    fn serde_urlencoded_like(query: &CheckQuery<'_>) -> String {
        let client = reqwest::Client::new();
        let request = client.get("http://h/").query(query).build().unwrap();
        request.url().query().unwrap_or_default().to_string()
    }

    #[test]
    fn listing_decodes_tolerantly() {
        let envelope: Envelope = serde_json::from_value(json!({
            "errno": 0, "error": "succ",
            "data": {"devices": [
                {"dev_id": 527776559, "name": "Pump", "manuf": 102, "model": "10201", "version": "V1",
                 "online": 1, "battery": 90, "signal": 20, "more": "ignored"},
                "junk",
                {"dev_id": "42"}
            ]}
        }))
        .unwrap();
        assert_eq!(envelope.errno, Some(0));
        let data = DeviceListData::deserialize(envelope.data().unwrap()).unwrap();
        let entries = data.entries();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].dev_id.as_deref(), Some("527776559"));
        assert_eq!(entries[0].manuf.as_deref(), Some("102"));
        assert_eq!(entries[0].online, Some(true));
        assert_eq!(entries[1].dev_id.as_deref(), Some("42"));
    }
}
