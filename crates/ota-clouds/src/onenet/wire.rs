//! OneNET wire format: the `{errno, error, data}` envelope (HTTP 200 even for errors) and the sandbox
//! device listing.

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
        self.devices
            .iter()
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
