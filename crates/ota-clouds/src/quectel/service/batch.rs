//! Acting on plans: confirm, appoint, cancel or retry a batch, one request per account, with an audited
//! answer per device.

use ota_core::quectel::{
    BatchOutcome, DeviceResult, PlanTarget, QuectelActionReport, QuectelActionResult,
    QuectelPlanAction, QuectelPlanItem, QuectelWindow,
};
use ota_core::{Account, ApiError, Cloud, Console, ErrorKind};

use super::locate::Session;
use super::plans::{plan_details, targets_by_account};

/// A batch action's answers: the cloud's lists (as the CLI prints them) and one result per device.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    pub outcome: BatchOutcome,
    pub results: Vec<QuectelActionResult>,
}

impl Decision {
    pub fn all_succeeded(&self) -> bool {
        self.results.iter().all(|r| r.ok)
    }
}

fn answer_for<'a>(list: &'a [DeviceResult], target: &PlanTarget) -> Option<&'a DeviceResult> {
    list.iter().find(|r| {
        r.device_key.as_deref() == Some(target.device_key.as_str())
            && r.plan_id.is_none_or(|p| p == target.plan_id)
    })
}

/// Confirms, appoints, cancels or retries these plans, one batch per account; each device's answer is
/// audited. The appointment rules (inside the plan period, at least one hour) are checked before anything
/// is sent. When no account's batch could be sent at all, the first reason is the error; otherwise an
/// account that failed gives its reason to each of its devices.
pub async fn decide(
    console: &Console,
    accounts: &[Account],
    items: &[QuectelPlanItem],
    action: QuectelPlanAction,
    window: Option<QuectelWindow>,
) -> Result<Decision, ApiError> {
    if items.is_empty() {
        return Err(ApiError::validation("No plan was chosen."));
    }
    let window = match (action, window) {
        (QuectelPlanAction::Appoint, None) => {
            return Err(ApiError::validation(
                "Appointing an upgrade needs a window: a start and an end.",
            ))
        }
        (_, window) => window,
    };
    let audit_action = format!("quectel.plan.{}", action.as_str());
    let mut decision = Decision::default();
    let mut sent_any = false;
    let mut first_error = None;
    for (_, (account, group)) in targets_by_account(console, accounts, items).await? {
        let targets: Vec<PlanTarget> = group.iter().map(|(_, t)| t.clone()).collect();
        let answered = async {
            let session = Session::open(console, &account)?;
            let client = session.client()?;
            match (action, window) {
                (QuectelPlanAction::Confirm, _) => client.confirm_upgrade(&targets).await,
                (QuectelPlanAction::Cancel, _) => client.cancel_upgrade(&targets).await,
                (QuectelPlanAction::Retry, _) => client.retry_upgrade(&targets).await,
                (QuectelPlanAction::Appoint, Some(w)) => {
                    client.appoint_upgrade(&targets, w.start_ms, w.end_ms).await
                }
                (QuectelPlanAction::Appoint, None) => unreachable!("checked above"),
            }
        }
        .await;
        match answered {
            Ok(outcome) => {
                sent_any = true;
                for target in &targets {
                    let result = if answer_for(&outcome.success_list, target).is_some() {
                        Ok(())
                    } else if let Some(failed) = answer_for(&outcome.fail_list, target) {
                        Err(failed.error())
                    } else {
                        Err(ApiError::new(
                            ErrorKind::Retryable,
                            format!(
                                "Quectel did not say whether {} took the action.",
                                target.device_key
                            ),
                        )
                        .with_hint("Refresh the plans to see the device's state."))
                    };
                    console.audit(
                        &audit_action,
                        Some(Cloud::Quectel),
                        Some(&target.device_key),
                        &result,
                    );
                    decision.results.push(QuectelActionResult {
                        device_key: target.device_key.clone(),
                        plan_id: target.plan_id,
                        ok: result.is_ok(),
                        error: result.err(),
                    });
                }
                decision.outcome.success_list.extend(outcome.success_list);
                decision.outcome.fail_list.extend(outcome.fail_list);
            }
            Err(err) => {
                for target in &targets {
                    console.audit(
                        &audit_action,
                        Some(Cloud::Quectel),
                        Some(&target.device_key),
                        &Err(err.clone()),
                    );
                    decision.results.push(QuectelActionResult {
                        device_key: target.device_key.clone(),
                        plan_id: target.plan_id,
                        ok: false,
                        error: Some(err.clone()),
                    });
                    decision.outcome.fail_list.push(DeviceResult {
                        plan_id: Some(target.plan_id),
                        product_key: Some(target.product_key.clone()),
                        device_key: Some(target.device_key.clone()),
                        code: err.vendor_code.as_deref().and_then(|c| c.parse().ok()),
                        msg: Some(err.message.clone()),
                    });
                }
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
        Some(err) if !sent_any => Err(err),
        _ => Ok(decision),
    }
}

/// [`decide`], then the devices' rows as the cloud shows them right after (left empty when they cannot
/// be read: the action's answers still stand).
pub async fn act(
    console: &Console,
    accounts: &[Account],
    items: &[QuectelPlanItem],
    action: QuectelPlanAction,
    window: Option<QuectelWindow>,
) -> Result<QuectelActionReport, ApiError> {
    let decision = decide(console, accounts, items, action, window).await?;
    let rows = match plan_details(console, accounts, items).await {
        Ok(rows) => rows,
        Err(err) => {
            tracing::info!(error = %err.display_line(), "could not read the plans after an action");
            Vec::new()
        }
    };
    Ok(QuectelActionReport {
        action,
        results: decision.results,
        rows,
    })
}
