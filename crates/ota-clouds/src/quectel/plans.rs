//! Manual upgrade plans of MQTT devices: read a device's plan, act on plans in batches (upgrade now,
//! appoint a window, cancel, retry after a failure) with a result per device, and read plan details.
//!
//! Appointments are checked here before anything is sent: the window must lie inside the plan period and
//! last at least one hour (the seed's rules; the cloud enforces them too).

use ota_core::{ApiError, ErrorKind};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::client::QuectelClient;
use super::endpoints::Endpoint;
use crate::http;
use crate::lenient;
use crate::retry::retry;

/// The shortest appointment the cloud accepts.
pub const MIN_APPOINTMENT_MS: i64 = 3_600_000;

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

/// What the user decided (`operType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanAction {
    UpgradeNow,
    /// Upgrade inside this window (Unix ms).
    Appoint {
        start_ms: i64,
        end_ms: i64,
    },
    /// Ends the plan for the device as failed.
    Cancel,
    /// Issues a failed plan again at once.
    Retry,
}

impl PlanAction {
    pub fn oper_type(self) -> i64 {
        match self {
            PlanAction::UpgradeNow => 1,
            PlanAction::Appoint { .. } => 2,
            PlanAction::Cancel => 3,
            PlanAction::Retry => 5,
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

/// One `userBatchConfirmUpgrade` item, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmItem {
    pub product_key: String,
    pub device_key: String,
    pub plan_id: i64,
    pub oper_type: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appoint_start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appoint_end_time: Option<i64>,
}

impl ConfirmItem {
    pub fn new(target: &PlanTarget, action: PlanAction) -> Self {
        let (start, end) = match action {
            PlanAction::Appoint { start_ms, end_ms } => (Some(start_ms), Some(end_ms)),
            _ => (None, None),
        };
        Self {
            product_key: target.product_key.clone(),
            device_key: target.device_key.clone(),
            plan_id: target.plan_id,
            oper_type: action.oper_type(),
            appoint_start_time: start,
            appoint_end_time: end,
        }
    }
}

fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(value.and_then(|v| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }))
}

/// `comVerList` entry: the version a component goes to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentVersion {
    /// 0 module, anything else MCU.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub com_type: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub tver: Option<String>,
}

/// A plan as `getDeviceUpgradePlan` and `getBatchUpgradeDetails` give it. Times are Unix ms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradePlan {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub plan_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub plan_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", alias = "pk")]
    pub product_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string", alias = "dk")]
    pub device_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub version_info: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub plan_start_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub plan_end_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub appoint_start_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub appoint_end_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub device_status: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub user_confirm_status: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub device_status_desc: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub user_confirm_status_desc: Option<String>,
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    pub com_ver_list: Vec<ComponentVersion>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub auto_upgrade: Option<bool>,
    /// 0..1.
    #[serde(default, deserialize_with = "opt_f64")]
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
#[serde(rename_all = "camelCase")]
pub struct DeviceResult {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub plan_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub product_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub device_key: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub code: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
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
#[serde(rename_all = "camelCase")]
pub struct BatchOutcome {
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    pub success_list: Vec<DeviceResult>,
    #[serde(default, deserialize_with = "lenient::vec_or_empty")]
    pub fail_list: Vec<DeviceResult>,
}

impl BatchOutcome {
    pub fn all_succeeded(&self) -> bool {
        self.fail_list.is_empty()
    }
}

/// The appointment rules: inside the plan period, at least one hour, end after start.
pub fn validate_appointment(
    plan_start_ms: Option<i64>,
    plan_end_ms: Option<i64>,
    start_ms: i64,
    end_ms: i64,
) -> Result<(), ApiError> {
    if end_ms <= start_ms {
        return Err(ApiError::validation(
            "The appointed window must end after it starts.",
        ));
    }
    let outside =
        plan_start_ms.is_some_and(|s| start_ms < s) || plan_end_ms.is_some_and(|e| end_ms > e);
    if outside {
        let period = match (plan_start_ms, plan_end_ms) {
            (Some(s), Some(e)) => format!(" ({} to {})", iso(s), iso(e)),
            _ => String::new(),
        };
        return Err(ApiError::validation(format!(
            "The appointed window must lie inside the plan period{period}."
        ))
        .with_hint("Pick a start and end within the plan period."));
    }
    if end_ms - start_ms < MIN_APPOINTMENT_MS {
        let minutes = (end_ms - start_ms) / 60_000;
        return Err(ApiError::validation(format!(
            "The appointed window must be at least 1 hour long; this one is {minutes} minutes."
        ))
        .with_hint("Move the end at least one hour after the start."));
    }
    Ok(())
}

/// Unix ms as RFC 3339 (UTC), for messages.
fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant), to keep chrono out of this crate.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub(crate) fn decode<T: for<'de> Deserialize<'de>>(data: &Value) -> Result<T, ApiError> {
    T::deserialize(data).map_err(|_| http::unreadable_answer())
}

impl QuectelClient {
    /// The device's upgrade plan, or `None` when the cloud has none for it.
    pub async fn get_plan(
        &self,
        product_key: &str,
        device_key: &str,
    ) -> Result<Option<UpgradePlan>, ApiError> {
        let query = Endpoint::GetDeviceUpgradePlan.device_query(product_key, device_key);
        let data = retry(&self.retry, "quectel upgrade plan", || {
            self.call_ok(Endpoint::GetDeviceUpgradePlan, &query)
        })
        .await?;
        let Some(data) = data else {
            return Ok(None);
        };
        let mut plan: UpgradePlan = decode(&data)?;
        if plan.plan_id.is_none() {
            return Ok(None);
        }
        plan.product_key
            .get_or_insert_with(|| product_key.to_string());
        plan.device_key
            .get_or_insert_with(|| device_key.to_string());
        Ok(Some(plan))
    }

    /// Plan details of many devices at once (the vendor apps poll this every 3 s).
    pub async fn batch_details(
        &self,
        targets: &[PlanTarget],
    ) -> Result<Vec<UpgradePlan>, ApiError> {
        if targets.is_empty() {
            return Ok(Vec::new());
        }
        let data = retry(&self.retry, "quectel upgrade details", || {
            self.call_ok(Endpoint::GetBatchUpgradeDetails, targets)
        })
        .await?;
        let Some(data) = data else {
            return Ok(Vec::new());
        };
        // An array, or an object holding one (`list`).
        let list = match &data {
            Value::Array(_) => data.clone(),
            Value::Object(map) => map.get("list").cloned().unwrap_or(Value::Array(Vec::new())),
            _ => return Err(http::unreadable_answer()),
        };
        let items: Vec<Value> = decode(&list)?;
        Ok(items
            .iter()
            .filter_map(|v| UpgradePlan::deserialize(v).ok())
            .collect())
    }

    /// Sends one batch as it is, without the client's own checks. Not retried: it changes plans.
    pub async fn send_batch(&self, items: &[ConfirmItem]) -> Result<BatchOutcome, ApiError> {
        if items.is_empty() {
            return Ok(BatchOutcome::default());
        }
        let data = self
            .call_ok(Endpoint::UserBatchConfirmUpgrade, items)
            .await?;
        match data {
            Some(data) => decode(&data),
            None => Ok(BatchOutcome::default()),
        }
    }

    /// "Upgrade now" for these devices.
    pub async fn confirm_upgrade(&self, targets: &[PlanTarget]) -> Result<BatchOutcome, ApiError> {
        self.act(targets, PlanAction::UpgradeNow).await
    }

    /// Cancels the plans for these devices (each ends as failed).
    pub async fn cancel_upgrade(&self, targets: &[PlanTarget]) -> Result<BatchOutcome, ApiError> {
        self.act(targets, PlanAction::Cancel).await
    }

    /// Issues failed plans again at once.
    pub async fn retry_upgrade(&self, targets: &[PlanTarget]) -> Result<BatchOutcome, ApiError> {
        self.act(targets, PlanAction::Retry).await
    }

    async fn act(
        &self,
        targets: &[PlanTarget],
        action: PlanAction,
    ) -> Result<BatchOutcome, ApiError> {
        let items: Vec<ConfirmItem> = targets
            .iter()
            .map(|t| ConfirmItem::new(t, action))
            .collect();
        self.send_batch(&items).await
    }

    /// Appoints the window `start_ms..end_ms` (Unix ms) for these devices. The plans are read first and
    /// every window checked; nothing is sent when one breaks a rule.
    pub async fn appoint_upgrade(
        &self,
        targets: &[PlanTarget],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<BatchOutcome, ApiError> {
        let plans = self.batch_details(targets).await?;
        for target in targets {
            let plan = plans
                .iter()
                .find(|p| {
                    p.plan_id == Some(target.plan_id)
                        && p.device_key.as_deref() == Some(target.device_key.as_str())
                })
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "Quectel has no plan {} for {}.",
                        target.plan_id, target.device_key
                    ))
                    .with_hint("`otactl quectel plans --device D` shows the device's plan.")
                })?;
            validate_appointment(plan.plan_start_time, plan.plan_end_time, start_ms, end_ms)?;
        }
        self.act(targets, PlanAction::Appoint { start_ms, end_ms })
            .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn appointment_rules_say_which_rule_failed() {
        assert!(validate_appointment(Some(0), Some(10 * H), H, 2 * H).is_ok());
        let short = validate_appointment(Some(0), Some(10 * H), H, 2 * H - 60_000).unwrap_err();
        assert_eq!(short.code, ErrorKind::Validation);
        assert!(short.message.contains("at least 1 hour") && short.message.contains("59 minutes"));
        let outside = validate_appointment(Some(0), Some(10 * H), 9 * H, 11 * H).unwrap_err();
        assert!(
            outside.message.contains("inside the plan period"),
            "{}",
            outside.message
        );
        assert!(outside.message.contains("1970-01-01T10:00:00Z"));
        assert!(validate_appointment(None, None, 2 * H, H).is_err());
    }

    #[test]
    fn items_encode_exactly() {
        let target = PlanTarget {
            product_key: "p".into(),
            device_key: "d".into(),
            plan_id: 7,
        };
        let now = serde_json::to_value(ConfirmItem::new(&target, PlanAction::UpgradeNow)).unwrap();
        assert_eq!(
            now,
            json!({"productKey": "p", "deviceKey": "d", "planId": 7, "operType": 1})
        );
        let appoint = serde_json::to_value(ConfirmItem::new(
            &target,
            PlanAction::Appoint {
                start_ms: 1,
                end_ms: 2,
            },
        ))
        .unwrap();
        assert_eq!(appoint["appointStartTime"], 1);
        assert_eq!(appoint["operType"], 2);
        use super::super::endpoints::assert_sends_row;
        assert_sends_row(Endpoint::UserBatchConfirmUpgrade, &json!([appoint]));
        assert_sends_row(
            Endpoint::GetBatchUpgradeDetails,
            &serde_json::to_value([&target]).unwrap(),
        );
        assert_eq!(ConfirmItem::new(&target, PlanAction::Retry).oper_type, 5);
    }

    #[test]
    fn plans_decode_tolerantly() {
        let plan: UpgradePlan = serde_json::from_value(json!({
            "planId": "12", "planName": "p", "deviceStatus": 1, "userConfirmStatus": "1",
            "comVerList": [{"comType": 0, "tver": "2.0"}], "upgradeProgress": "0.25", "autoUpgrade": 0
        }))
        .unwrap();
        assert_eq!(plan.plan_id, Some(12));
        assert_eq!(plan.target_version(), Some("2.0"));
        assert_eq!(plan.percent(), 25);
        assert!(!plan.is_finished());
        let failed = DeviceResult {
            device_key: Some("d".into()),
            code: Some(409),
            msg: Some("busy".into()),
            ..Default::default()
        };
        assert_eq!(failed.error().code, ErrorKind::Conflict);
        assert_eq!(failed.error().message, "Quectel refused d: busy.");
    }
}
