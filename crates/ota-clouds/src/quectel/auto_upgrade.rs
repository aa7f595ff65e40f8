//! User auto-confirmation mode: while it is on for a device, Developer Center pushes every new eligible
//! plan to it without asking. Parameters (`productKey`, `deviceKey`, `autoUpgrade`) are assumed from
//! vendor SDK samples (see the shared README).

use ota_core::ApiError;
use serde::Serialize;
use serde_json::Value;

use super::client::QuectelClient;
use super::endpoints::Endpoint;
use crate::http;
use crate::lenient;
use crate::retry::retry;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceKeys<'a> {
    product_key: &'a str,
    device_key: &'a str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct AutoSwitch<'a> {
    product_key: &'a str,
    device_key: &'a str,
    auto_upgrade: bool,
}

/// `data` of `getAutoUpgradeSwitch`: a bare boolean, or an object carrying `autoUpgrade`.
fn switch_of(data: Option<&Value>) -> Result<bool, ApiError> {
    let Some(data) = data else {
        return Ok(false);
    };
    let value = match data {
        Value::Object(map) => map
            .get("autoUpgrade")
            .or_else(|| map.get("switch"))
            .or_else(|| map.get("status")),
        other => Some(other),
    };
    value
        .and_then(lenient::bool_of)
        .ok_or_else(http::unreadable_answer)
}

impl QuectelClient {
    /// Whether the device is in auto-confirmation mode.
    pub async fn get_auto_upgrade(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<bool, ApiError> {
        let query = Endpoint::GetAutoUpgradeSwitch.device_query(product_key, device_key);
        let data = retry(&self.retry, "quectel auto-upgrade switch", || {
            self.call_ok(Endpoint::GetAutoUpgradeSwitch, &query)
        })
        .await?;
        switch_of(data.as_ref())
    }

    /// Turns auto-confirmation mode on or off.
    pub async fn set_auto_upgrade(
        &self,
        product_key: &str,
        device_key: &str,
        on: bool,
    ) -> Result<(), ApiError> {
        let body = AutoSwitch {
            product_key,
            device_key,
            auto_upgrade: on,
        };
        self.call_ok(Endpoint::SetAutoUpgradeSwitch, &body)
            .await
            .map(|_| ())
    }

    /// Deletes the device's auto-confirmation setting (auto mode off).
    pub async fn delete_auto_upgrade(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<(), ApiError> {
        let body = DeviceKeys {
            product_key,
            device_key,
        };
        self.call_ok(Endpoint::DeleteDeviceUpgrade, &body)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn switch_shapes() {
        assert!(switch_of(Some(&json!(true))).unwrap());
        assert!(switch_of(Some(&json!({"autoUpgrade": 1}))).unwrap());
        assert!(!switch_of(Some(&json!({"autoUpgrade": "false"}))).unwrap());
        assert!(!switch_of(None).unwrap());
        assert!(switch_of(Some(&json!({"x": []}))).is_err());
    }

    #[test]
    fn bodies_send_the_tables_names() {
        use super::super::endpoints::assert_sends_row;
        let switch = AutoSwitch {
            product_key: "p",
            device_key: "d",
            auto_upgrade: true,
        };
        assert_sends_row(
            Endpoint::SetAutoUpgradeSwitch,
            &serde_json::to_value(&switch).unwrap(),
        );
        let keys = DeviceKeys {
            product_key: "p",
            device_key: "d",
        };
        assert_sends_row(
            Endpoint::DeleteDeviceUpgrade,
            &serde_json::to_value(&keys).unwrap(),
        );
    }
}
