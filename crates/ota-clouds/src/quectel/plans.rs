//! Manual upgrade plans of MQTT devices: read a device's plan, act on plans in batches (upgrade now,
//! appoint a window, cancel, retry after a failure) with a result per device, and read plan details.
//!
//! Appointments are checked here before anything is sent: the window must lie inside the plan period and
//! last at least one hour (the seed's rules; the cloud enforces them too).

use ota_core::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use ota_core::quectel::plans::{
    confirm_status, device_status, BatchOutcome, ComponentVersion, DeviceResult, PlanTarget,
    UpgradePlan,
};

use super::answers::{BatchAnswer, PlanAnswer};
use super::client::QuectelClient;
use super::endpoints::Endpoint;
use crate::http;
use crate::retry::retry;

/// The shortest appointment the cloud accepts.
pub const MIN_APPOINTMENT_MS: i64 = 3_600_000;

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

/// The appointment rules: inside the plan period, at least one hour, end after start.
pub fn validate_appointment(
    plan_start_ms: Option<i64>,
    plan_end_ms: Option<i64>,
    start_ms: i64,
    end_ms: i64,
) -> Result<(), ApiError> {
    if end_ms <= start_ms {
        return Err(ApiError::validation("The window must end after it starts."));
    }
    let outside =
        plan_start_ms.is_some_and(|s| start_ms < s) || plan_end_ms.is_some_and(|e| end_ms > e);
    if outside {
        let period = match (plan_start_ms, plan_end_ms) {
            (Some(s), Some(e)) => format!(" ({} to {})", iso(s), iso(e)),
            _ => String::new(),
        };
        return Err(ApiError::validation(format!(
            "The window must lie inside the plan period{period}."
        ))
        .with_hint("Pick a start and end within the plan period."));
    }
    if end_ms - start_ms < MIN_APPOINTMENT_MS {
        let minutes = (end_ms - start_ms) / 60_000;
        return Err(ApiError::validation(format!(
            "The window must be at least 1 hour long; this one is {minutes} minutes."
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
        let mut plan: UpgradePlan = decode::<PlanAnswer>(&data)?.into();
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
            .filter_map(|v| PlanAnswer::deserialize(v).ok())
            .map(UpgradePlan::from)
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
            Some(data) => decode::<BatchAnswer>(&data).map(BatchOutcome::from),
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
    use ota_core::ErrorKind;
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
}
