//! Upgrade plans of Quectel MQTT devices as the client hands them over: a device's plan, the device and
//! plan a batch action names, and each device's answer to a batch. How the cloud's JSON decodes into
//! these (tolerantly: numbers as strings and the like) is `ota-clouds::quectel`'s business; they serialize
//! in the cloud's own camelCase names, which `otactl … --json` prints. Times are Unix ms.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorKind};

/// `deviceStatus` of a plan.
pub mod device_status {
    pub const ALREADY_LATEST: i64 = -1;
    pub const NOT_UPGRADED: i64 = 0;
    pub const UPGRADING: i64 = 1;
    pub const SUCCEEDED: i64 = 2;
    pub const FAILED: i64 = 3;

    pub fn label(status: i64) -> &'static str {
        match status {
            ALREADY_LATEST => "already latest",
            NOT_UPGRADED => "not upgraded",
            UPGRADING => "upgrading",
            SUCCEEDED => "succeeded",
            FAILED => "failed",
            _ => "unknown",
        }
    }
}

/// `userConfirmStatus` of a plan.
pub mod confirm_status {
    pub const UNCONFIRMED: i64 = 0;
    pub const UPGRADE_NOW: i64 = 1;
    pub const APPOINTED: i64 = 2;
    pub const CANCELLED: i64 = 3;
    pub const ACKNOWLEDGED: i64 = 4;

    pub fn label(status: i64) -> &'static str {
        match status {
            UNCONFIRMED => "unconfirmed",
            UPGRADE_NOW => "upgrade now",
            APPOINTED => "appointed",
            CANCELLED => "cancelled",
            ACKNOWLEDGED => "acknowledged",
            _ => "unknown",
        }
    }
}

/// A device's part in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanTarget {
    pub product_key: String,
    pub device_key: String,
    pub plan_id: i64,
}

/// `comVerList` entry: the version a component goes to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ComponentVersion {
    /// 0 module, anything else MCU.
    pub com_type: Option<i64>,
    pub tver: Option<String>,
}

/// A plan as `getDeviceUpgradePlan` and `getBatchUpgradeDetails` give it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UpgradePlan {
    pub plan_id: Option<i64>,
    pub plan_name: Option<String>,
    pub product_key: Option<String>,
    pub device_key: Option<String>,
    pub version_info: Option<String>,
    pub plan_start_time: Option<i64>,
    pub plan_end_time: Option<i64>,
    pub appoint_start_time: Option<i64>,
    pub appoint_end_time: Option<i64>,
    pub device_status: Option<i64>,
    pub user_confirm_status: Option<i64>,
    pub device_status_desc: Option<String>,
    pub user_confirm_status_desc: Option<String>,
    pub com_ver_list: Vec<ComponentVersion>,
    pub auto_upgrade: Option<bool>,
    /// 0..1.
    pub upgrade_progress: Option<f64>,
}

impl UpgradePlan {
    /// The version the plan upgrades to: `versionInfo`, else the first component's.
    pub fn target_version(&self) -> Option<&str> {
        self.version_info
            .as_deref()
            .filter(|v| !v.is_empty())
            .or_else(|| self.com_ver_list.iter().find_map(|c| c.tver.as_deref()))
    }

    /// 0..=100.
    pub fn percent(&self) -> u8 {
        (self.upgrade_progress.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0).round() as u8
    }

    /// True once the plan ended for the device (succeeded, failed, cancelled or nothing to do).
    pub fn is_finished(&self) -> bool {
        matches!(
            self.device_status,
            Some(device_status::SUCCEEDED | device_status::FAILED | device_status::ALREADY_LATEST)
        )
    }

    pub fn target(&self) -> Option<PlanTarget> {
        Some(PlanTarget {
            product_key: self.product_key.clone()?,
            device_key: self.device_key.clone()?,
            plan_id: self.plan_id?,
        })
    }
}

/// One device's answer in a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeviceResult {
    pub plan_id: Option<i64>,
    pub product_key: Option<String>,
    pub device_key: Option<String>,
    pub code: Option<i64>,
    pub msg: Option<String>,
}

impl DeviceResult {
    /// Why the cloud refused this device, as an error the window and CLI can show.
    pub fn error(&self) -> ApiError {
        let device = self.device_key.as_deref().unwrap_or("the device");
        let detail = self
            .msg
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or("no reason given");
        let code = self.code.unwrap_or(-1);
        let kind = match code {
            400 => ErrorKind::Validation,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            401 | 403 => ErrorKind::Auth,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::Retryable,
            _ => ErrorKind::Device,
        };
        ApiError::new(kind, format!("Quectel refused {device}: {detail}."))
            .with_vendor_code(code.to_string())
    }
}

/// `data` of `userBatchConfirmUpgrade`: which devices took the action and which did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchOutcome {
    pub success_list: Vec<DeviceResult>,
    pub fail_list: Vec<DeviceResult>,
}

impl BatchOutcome {
    pub fn all_succeeded(&self) -> bool {
        self.fail_list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn plans_print_in_the_clouds_names() {
        let plan = UpgradePlan {
            plan_id: Some(12),
            device_key: Some("d".into()),
            com_ver_list: vec![ComponentVersion {
                com_type: Some(0),
                tver: Some("2.0".into()),
            }],
            upgrade_progress: Some(0.25),
            ..Default::default()
        };
        let printed = serde_json::to_value(&plan).unwrap();
        assert_eq!(printed["planId"], 12);
        assert_eq!(printed["deviceKey"], "d");
        assert_eq!(
            printed["comVerList"],
            json!([{"comType": 0, "tver": "2.0"}])
        );
        // Absent values print as null, as `otactl quectel plans --json` always did.
        assert_eq!(printed["appointStartTime"], json!(null));
        assert_eq!(printed.as_object().unwrap().len(), 16);
        assert_eq!(
            serde_json::from_value::<UpgradePlan>(printed).unwrap(),
            plan
        );
        assert_eq!(plan.target_version(), Some("2.0"));
        assert_eq!(plan.percent(), 25);
        assert!(!plan.is_finished());
    }

    #[test]
    fn a_refused_device_reads_as_its_error_kind() {
        let failed = DeviceResult {
            device_key: Some("d".into()),
            code: Some(409),
            msg: Some("busy".into()),
            ..Default::default()
        };
        assert_eq!(failed.error().code, ErrorKind::Conflict);
        assert_eq!(failed.error().message, "Quectel refused d: busy.");
        assert_eq!(failed.error().vendor_code.as_deref(), Some("409"));
        let outcome = BatchOutcome {
            fail_list: vec![failed],
            ..Default::default()
        };
        assert!(!outcome.all_succeeded());
        assert_eq!(
            serde_json::to_value(&outcome).unwrap()["failList"][0]["deviceKey"],
            "d"
        );
    }
}
