//! Reading plans: each device's current plan from the cloud (a few at a time, cached in the store), the
//! cached list the window paints first, and the rows it shows.

use std::collections::{BTreeMap, HashMap};

use futures::stream::{self, StreamExt};
use ota_core::quectel::plans::{confirm_status, device_status};
use ota_core::quectel::{
    PlanTarget, QuectelPlanActions, QuectelPlanItem, QuectelPlanList, QuectelPlanReadError,
    QuectelPlanRow, QuectelPlanState, UpgradePlan,
};
use ota_core::store::CachedPlan;
use ota_core::{Account, ApiError, Console};

use super::locate::{cached_devices, locate, quectel_accounts, FleetRefresh, Located, Session};

/// Plans read at once when listing many devices (one request per device: the API has no list).
const READ_CONCURRENCY: usize = 8;

/// The plan as the store keeps it.
fn cached_of(account_id: i64, plan: &UpgradePlan, now: i64) -> Option<CachedPlan> {
    Some(CachedPlan {
        account_id,
        device_id: plan.device_key.clone()?,
        plan_id: plan.plan_id?,
        plan_name: plan.plan_name.clone().unwrap_or_default(),
        target_version: plan.target_version().unwrap_or_default().to_string(),
        plan_start: plan.plan_start_time,
        plan_end: plan.plan_end_time,
        appoint_start: plan.appoint_start_time,
        appoint_end: plan.appoint_end_time,
        device_status: plan.device_status.unwrap_or(device_status::NOT_UPGRADED),
        user_confirm_status: plan
            .user_confirm_status
            .unwrap_or(confirm_status::UNCONFIRMED),
        progress: plan.upgrade_progress.unwrap_or(0.0),
        refreshed_at: now,
    })
}

/// Keeps the plans read in the store, for showing them offline. A cache that cannot be written does not
/// fail the read.
pub fn remember(console: &Console, account_id: i64, plans: &[&UpgradePlan]) {
    let now = ota_core::now_ms();
    let rows: Vec<CachedPlan> = plans
        .iter()
        .filter_map(|p| cached_of(account_id, p, now))
        .collect();
    if rows.is_empty() {
        return;
    }
    if let Err(err) = console.store().save_upgrade_plans(&rows) {
        tracing::warn!(error = %err, "could not cache the upgrade plans");
    }
}

/// The state a person reads, from `deviceStatus` and `userConfirmStatus`.
pub fn state_of(device: i64, confirm: i64) -> QuectelPlanState {
    match (device, confirm) {
        (device_status::ALREADY_LATEST, _) => QuectelPlanState::AlreadyLatest,
        (device_status::NOT_UPGRADED, confirm_status::APPOINTED) => QuectelPlanState::Appointed,
        (device_status::NOT_UPGRADED, confirm_status::UPGRADE_NOW) => QuectelPlanState::Confirmed,
        (device_status::NOT_UPGRADED, confirm_status::CANCELLED) => QuectelPlanState::Cancelled,
        (device_status::NOT_UPGRADED, _) => QuectelPlanState::Waiting,
        (device_status::UPGRADING, _) => QuectelPlanState::Upgrading,
        (device_status::SUCCEEDED, _) => QuectelPlanState::Succeeded,
        (device_status::FAILED, confirm_status::CANCELLED) => QuectelPlanState::Cancelled,
        (device_status::FAILED, _) => QuectelPlanState::Failed,
        _ => QuectelPlanState::Unknown,
    }
}

/// What the cloud accepts in this state. Bluetooth devices are moved by their reports instead.
pub fn actions_of(state: QuectelPlanState, bluetooth: bool) -> QuectelPlanActions {
    if bluetooth {
        return QuectelPlanActions::default();
    }
    match state {
        QuectelPlanState::Waiting | QuectelPlanState::Appointed => QuectelPlanActions {
            confirm: true,
            appoint: true,
            cancel: true,
            retry: false,
        },
        QuectelPlanState::Confirmed => QuectelPlanActions {
            confirm: false,
            appoint: true,
            cancel: true,
            retry: false,
        },
        QuectelPlanState::Failed => QuectelPlanActions {
            retry: true,
            ..Default::default()
        },
        _ => QuectelPlanActions::default(),
    }
}

fn row_of(
    account: &Account,
    device_key: &str,
    device_name: String,
    product_key: &str,
    bluetooth: bool,
    plan: &CachedPlan,
    cached: bool,
) -> QuectelPlanRow {
    let state = state_of(plan.device_status, plan.user_confirm_status);
    QuectelPlanRow {
        account_id: account.id,
        account_name: account.name.clone(),
        device_key: device_key.to_string(),
        device_name,
        product_key: product_key.to_string(),
        bluetooth,
        plan_id: plan.plan_id,
        plan_name: plan.plan_name.clone(),
        target_version: plan.target_version.clone(),
        plan_start: plan.plan_start,
        plan_end: plan.plan_end,
        appoint_start: plan.appoint_start,
        appoint_end: plan.appoint_end,
        state,
        device_status: plan.device_status,
        user_confirm_status: plan.user_confirm_status,
        percent: (plan.progress.clamp(0.0, 1.0) * 100.0).round() as u8,
        actions: actions_of(state, bluetooth),
        refreshed_at: plan.refreshed_at,
        cached,
    }
}

/// The window's row for a plan the cloud just gave.
pub fn row(located: &Located, plan: &UpgradePlan) -> Option<QuectelPlanRow> {
    let cached = cached_of(located.account.id, plan, ota_core::now_ms())?;
    Some(row_of(
        &located.account,
        &located.device_key,
        located.name(),
        &located.product_key,
        located.bluetooth(),
        &cached,
        false,
    ))
}

/// Each device's current plan (`None` when the cloud has none), read a few at a time, in the order given.
/// Plans found are cached.
pub async fn read_plans(
    console: &Console,
    devices: Vec<Located>,
) -> Vec<(Located, Result<Option<UpgradePlan>, ApiError>)> {
    let read = stream::iter(devices)
        .map(|device| async move {
            let result = async {
                let session = Session::open(console, &device.account)?;
                session
                    .client()?
                    .get_plan(&device.product_key, &device.device_key)
                    .await
            }
            .await;
            (device, result)
        })
        .buffered(READ_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let mut by_account: BTreeMap<i64, Vec<&UpgradePlan>> = BTreeMap::new();
    for (device, result) in &read {
        if let Ok(Some(plan)) = result {
            by_account.entry(device.account.id).or_default().push(plan);
        }
    }
    for (account_id, plans) in by_account {
        remember(console, account_id, &plans);
    }
    read
}

/// The newest cached plan of each device of these accounts, by (account, deviceKey).
fn cached_plans_by_device(
    console: &Console,
    accounts: &[Account],
) -> Result<HashMap<(i64, String), CachedPlan>, ApiError> {
    let mut newest = HashMap::new();
    for account in accounts {
        // Newest plan first: the first one seen per device is the one to show.
        for plan in console.store().upgrade_plans(account.id, None)? {
            newest
                .entry((account.id, plan.device_id.clone()))
                .or_insert(plan);
        }
    }
    Ok(newest)
}

/// The plans as last read, from the store alone (no request): what the window paints first.
pub async fn cached_plan_list(
    console: &Console,
    accounts: &[Account],
) -> Result<QuectelPlanList, ApiError> {
    let accounts = quectel_accounts(accounts)?;
    let devices = cached_devices(console, &accounts, FleetRefresh::Never).await?;
    let mut plans = cached_plans_by_device(console, &accounts)?;
    let rows = devices
        .iter()
        .filter_map(|d| {
            let plan = plans.remove(&(d.account.id, d.device_key.clone()))?;
            Some(row_of(
                &d.account,
                &d.device_key,
                d.name(),
                &d.product_key,
                d.bluetooth(),
                &plan,
                true,
            ))
        })
        .collect();
    Ok(QuectelPlanList {
        rows,
        devices: devices.len() as u32,
        live: false,
        errors: Vec::new(),
    })
}

/// How one account's plan reads went: devices asked, and the ones that failed with why.
#[derive(Default)]
struct ReadTally {
    account_name: String,
    asked: usize,
    failed: Vec<(String, ApiError)>,
}

/// Every cached Quectel device's current plan, asked of the cloud now. A device whose plan cannot be read
/// keeps its cached row (marked `cached`) and its error is listed; an account where every device failed
/// is listed once.
pub async fn plan_list(
    console: &Console,
    accounts: &[Account],
) -> Result<QuectelPlanList, ApiError> {
    let accounts = quectel_accounts(accounts)?;
    let devices = cached_devices(console, &accounts, FleetRefresh::IfEmpty).await?;
    let asked = devices.len() as u32;
    let mut cached = cached_plans_by_device(console, &accounts)?;
    let read = read_plans(console, devices).await;

    let mut rows = Vec::new();
    let mut tallies: BTreeMap<i64, ReadTally> = BTreeMap::new();
    for (device, result) in &read {
        let tally = tallies
            .entry(device.account.id)
            .or_insert_with(|| ReadTally {
                account_name: device.account.name.clone(),
                ..Default::default()
            });
        tally.asked += 1;
        match result {
            Ok(Some(plan)) => rows.extend(row(device, plan)),
            Ok(None) => {}
            Err(err) => {
                tally.failed.push((device.device_key.clone(), err.clone()));
                if let Some(plan) = cached.remove(&(device.account.id, device.device_key.clone())) {
                    rows.push(row_of(
                        &device.account,
                        &device.device_key,
                        device.name(),
                        &device.product_key,
                        device.bluetooth(),
                        &plan,
                        true,
                    ));
                }
            }
        }
    }
    let mut errors = Vec::new();
    for ReadTally {
        account_name,
        asked,
        failed,
    } in tallies.into_values()
    {
        if failed.is_empty() {
            continue;
        }
        if failed.len() == asked {
            errors.push(QuectelPlanReadError {
                account_name,
                device_key: None,
                error: failed[0].1.clone(),
            });
        } else {
            errors.extend(
                failed
                    .into_iter()
                    .map(|(device_key, error)| QuectelPlanReadError {
                        account_name: account_name.clone(),
                        device_key: Some(device_key),
                        error,
                    }),
            );
        }
    }
    Ok(QuectelPlanList {
        rows,
        devices: asked,
        live: errors.is_empty(),
        errors,
    })
}

/// Resolves devices and groups them by account, each with its plan target.
pub async fn targets_by_account(
    console: &Console,
    accounts: &[Account],
    items: &[QuectelPlanItem],
) -> Result<BTreeMap<i64, (Account, Vec<(Located, PlanTarget)>)>, ApiError> {
    let mut groups: BTreeMap<i64, (Account, Vec<(Located, PlanTarget)>)> = BTreeMap::new();
    for item in items {
        let located = locate(console, accounts, &item.device_key).await?;
        let target = located.target(item.plan_id);
        groups
            .entry(located.account.id)
            .or_insert_with(|| (located.account.clone(), Vec::new()))
            .1
            .push((located, target));
    }
    Ok(groups)
}

/// `getBatchUpgradeDetails` for these devices' plans, with the device each belongs to; cached.
pub async fn plan_details_of(
    console: &Console,
    accounts: &[Account],
    items: &[QuectelPlanItem],
) -> Result<Vec<(Located, UpgradePlan)>, ApiError> {
    let mut found = Vec::new();
    for (_, (account, group)) in targets_by_account(console, accounts, items).await? {
        let session = Session::open(console, &account)?;
        let targets: Vec<PlanTarget> = group.iter().map(|(_, t)| t.clone()).collect();
        let plans = session.client()?.batch_details(&targets).await?;
        remember(console, account.id, &plans.iter().collect::<Vec<_>>());
        for plan in plans {
            let owner = group
                .iter()
                .find(|(l, _)| plan.device_key.as_deref() == Some(l.device_key.as_str()))
                .map(|(l, _)| l.clone());
            if let Some(owner) = owner {
                found.push((owner, plan));
            }
        }
    }
    Ok(found)
}

/// The rows of these devices' plans as the cloud shows them now (what the window polls every 3 s while
/// something is in progress).
pub async fn plan_details(
    console: &Console,
    accounts: &[Account],
    items: &[QuectelPlanItem],
) -> Result<Vec<QuectelPlanRow>, ApiError> {
    Ok(plan_details_of(console, accounts, items)
        .await?
        .iter()
        .filter_map(|(located, plan)| row(located, plan))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_both_codes() {
        assert_eq!(state_of(0, 0), QuectelPlanState::Waiting);
        assert_eq!(state_of(0, 1), QuectelPlanState::Confirmed);
        assert_eq!(state_of(0, 2), QuectelPlanState::Appointed);
        assert_eq!(state_of(1, 1), QuectelPlanState::Upgrading);
        assert_eq!(state_of(2, 1), QuectelPlanState::Succeeded);
        assert_eq!(state_of(3, 1), QuectelPlanState::Failed);
        assert_eq!(state_of(3, 3), QuectelPlanState::Cancelled);
        assert_eq!(state_of(-1, 0), QuectelPlanState::AlreadyLatest);
        assert_eq!(state_of(9, 0), QuectelPlanState::Unknown);
    }

    #[test]
    fn actions_follow_the_cloud_rules() {
        let waiting = actions_of(QuectelPlanState::Waiting, false);
        assert!(waiting.confirm && waiting.appoint && waiting.cancel && !waiting.retry);
        let failed = actions_of(QuectelPlanState::Failed, false);
        assert!(failed.retry && !failed.cancel && !failed.confirm);
        assert_eq!(
            actions_of(QuectelPlanState::Cancelled, false),
            QuectelPlanActions::default()
        );
        assert_eq!(
            actions_of(QuectelPlanState::Upgrading, false),
            QuectelPlanActions::default()
        );
        // Bluetooth devices are moved by their reports, not by batch actions.
        assert_eq!(
            actions_of(QuectelPlanState::Waiting, true),
            QuectelPlanActions::default()
        );
    }
}
