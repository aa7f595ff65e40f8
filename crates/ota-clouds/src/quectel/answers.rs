//! How Quectel's plan, batch and Bluetooth answers decode: tolerant mirrors of the types in
//! `ota_core::quectel::{plans, ble}` (numbers as strings, booleans as 0/1, `pk`/`dk` for the keys, absent
//! lists), each turned into its core type. The core types serialize in the same camelCase names; only the
//! tolerance lives here, next to the client that reads the cloud.

use ota_core::quectel::plans::ComponentVersion;
use ota_core::quectel::{BatchOutcome, BlePlan, DeviceResult, UpgradePlan};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::lenient;

fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(value.and_then(|v| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }))
}

/// `comVerList` entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ComponentAnswer {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    com_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    tver: Option<String>,
}

impl From<ComponentAnswer> for ComponentVersion {
    fn from(answer: ComponentAnswer) -> Self {
        Self {
            com_type: answer.com_type,
            tver: answer.tver,
        }
    }
}

/// A plan as `getDeviceUpgradePlan` and `getBatchUpgradeDetails` give it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlanAnswer {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    plan_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    plan_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", alias = "pk")]
    product_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", alias = "dk")]
    device_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    version_info: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    plan_start_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    plan_end_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    appoint_start_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    appoint_end_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    device_status: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    user_confirm_status: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    device_status_desc: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    user_confirm_status_desc: Option<String>,
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    com_ver_list: Vec<ComponentAnswer>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    auto_upgrade: Option<bool>,
    #[serde(default, deserialize_with = "opt_f64")]
    upgrade_progress: Option<f64>,
}

impl From<PlanAnswer> for UpgradePlan {
    fn from(answer: PlanAnswer) -> Self {
        Self {
            plan_id: answer.plan_id,
            plan_name: answer.plan_name,
            product_key: answer.product_key,
            device_key: answer.device_key,
            version_info: answer.version_info,
            plan_start_time: answer.plan_start_time,
            plan_end_time: answer.plan_end_time,
            appoint_start_time: answer.appoint_start_time,
            appoint_end_time: answer.appoint_end_time,
            device_status: answer.device_status,
            user_confirm_status: answer.user_confirm_status,
            device_status_desc: answer.device_status_desc,
            user_confirm_status_desc: answer.user_confirm_status_desc,
            com_ver_list: answer.com_ver_list.into_iter().map(Into::into).collect(),
            auto_upgrade: answer.auto_upgrade,
            upgrade_progress: answer.upgrade_progress,
        }
    }
}

/// One device's answer in a batch.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeviceResultAnswer {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    plan_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    product_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    device_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    code: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    msg: Option<String>,
}

impl From<DeviceResultAnswer> for DeviceResult {
    fn from(answer: DeviceResultAnswer) -> Self {
        Self {
            plan_id: answer.plan_id,
            product_key: answer.product_key,
            device_key: answer.device_key,
            code: answer.code,
            msg: answer.msg,
        }
    }
}

/// `data` of `userBatchConfirmUpgrade`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchAnswer {
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    success_list: Vec<DeviceResultAnswer>,
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    fail_list: Vec<DeviceResultAnswer>,
}

impl From<BatchAnswer> for BatchOutcome {
    fn from(answer: BatchAnswer) -> Self {
        Self {
            success_list: answer.success_list.into_iter().map(Into::into).collect(),
            fail_list: answer.fail_list.into_iter().map(Into::into).collect(),
        }
    }
}

/// `getFetchPlan` data (one component).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BlePlanAnswer {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    target_version: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    component_no: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    desc: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    file_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    file_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    file_size: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    file_sign: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    plan_id: Option<i64>,
}

impl From<BlePlanAnswer> for BlePlan {
    fn from(answer: BlePlanAnswer) -> Self {
        Self {
            target_version: answer.target_version,
            component_no: answer.component_no,
            desc: answer.desc,
            file_name: answer.file_name,
            file_url: answer.file_url,
            file_size: answer.file_size,
            file_sign: answer.file_sign,
            plan_id: answer.plan_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn plans_decode_tolerantly() {
        let plan: UpgradePlan = serde_json::from_value::<PlanAnswer>(json!({
            "planId": "12", "planName": "p", "deviceStatus": 1, "userConfirmStatus": "1",
            "comVerList": [{"comType": 0, "tver": "2.0"}], "upgradeProgress": "0.25", "autoUpgrade": 0,
            "pk": "P", "dk": "D"
        }))
        .unwrap()
        .into();
        assert_eq!(plan.plan_id, Some(12));
        assert_eq!(plan.user_confirm_status, Some(1));
        assert_eq!(plan.auto_upgrade, Some(false));
        assert_eq!(plan.target_version(), Some("2.0"));
        assert_eq!(plan.percent(), 25);
        assert_eq!(
            (plan.product_key.as_deref(), plan.device_key.as_deref()),
            (Some("P"), Some("D"))
        );
        assert!(!plan.is_finished());
    }

    #[test]
    fn batch_answers_decode_tolerantly() {
        let outcome: BatchOutcome = serde_json::from_value::<BatchAnswer>(json!({
            "successList": null,
            "failList": [{"deviceKey": 7, "code": "409", "msg": "busy", "planId": "3"}]
        }))
        .unwrap()
        .into();
        assert!(outcome.success_list.is_empty());
        let refused = &outcome.fail_list[0];
        assert_eq!(refused.device_key.as_deref(), Some("7"));
        assert_eq!(refused.plan_id, Some(3));
        assert_eq!(refused.error().message, "Quectel refused 7: busy.");
    }
}
