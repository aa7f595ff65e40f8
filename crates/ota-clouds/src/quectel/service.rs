//! Quectel upgrade plans as the window and `otactl` run them: find each device's account and productKey
//! in the fleet cache, read plans (cached in the store), act on batches of plans with an answer per
//! device, the auto-upgrade switch and the Bluetooth flow — every change to the cloud in the audit log.
//!
//! Devices are named by deviceKey; the account and productKey come from the cached fleet (refreshed once
//! when a device is not in it).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use ota_core::cloud::CloudSession;
use ota_core::quectel::{
    QuectelActionReport, QuectelActionResult, QuectelAutoUpgrade, QuectelBlePackage,
    QuectelBlePhase, QuectelBlePlan, QuectelBleProgress, QuectelBleReported, QuectelBleStatus,
    QuectelPlanAction, QuectelPlanActions, QuectelPlanItem, QuectelPlanList, QuectelPlanReadError,
    QuectelPlanRow, QuectelPlanState, QuectelWindow,
};
use ota_core::store::{CachedPlan, MAX_PAGE_SIZE};
use ota_core::{Account, ApiError, Cloud, Console, DataKind, Device, DeviceQuery, ErrorKind};

use super::ble::{BlePlan, BleReportStatus, VerifiedPackage};
use super::plans::{confirm_status, device_status, BatchOutcome, DeviceResult, PlanTarget};
use super::{QuectelClient, UpgradePlan};

/// Plans read at once when listing many devices (one request per device: the API has no list).
const READ_CONCURRENCY: usize = 8;
/// Download progress goes out at most this often (the final state always).
const PROGRESS_GAP: Duration = Duration::from_millis(100);

/// The Quectel accounts among `accounts`; an error saying how to add one when there is none.
pub fn quectel_accounts(accounts: &[Account]) -> Result<Vec<Account>, ApiError> {
    let found: Vec<Account> = accounts
        .iter()
        .filter(|a| a.cloud == Cloud::Quectel)
        .cloned()
        .collect();
    if found.is_empty() {
        return Err(
            ApiError::not_found("No Quectel account is configured.").with_hint(
                "Add one in Settings (or `otactl accounts add --cloud quectel ...`), or use the sandbox.",
            ),
        );
    }
    Ok(found)
}

/// A Quectel device as the calls need it: its account, productKey and deviceKey, and the fleet's row.
#[derive(Debug, Clone)]
pub struct Located {
    pub account: Account,
    pub product_key: String,
    pub device_key: String,
    pub device: Option<Device>,
}

impl Located {
    fn of(account: &Account, device: Device) -> Option<Self> {
        Some(Self {
            account: account.clone(),
            product_key: device.product_key.clone()?,
            device_key: device.id.clone(),
            device: Some(device),
        })
    }

    pub fn target(&self, plan_id: i64) -> PlanTarget {
        PlanTarget {
            product_key: self.product_key.clone(),
            device_key: self.device_key.clone(),
            plan_id,
        }
    }

    fn bluetooth(&self) -> bool {
        self.device
            .as_ref()
            .and_then(|d| d.transport.as_deref())
            .is_some_and(|t| t.eq_ignore_ascii_case("ble"))
    }

    fn name(&self) -> String {
        self.device
            .as_ref()
            .map(|d| d.name.trim())
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.device_key)
            .to_string()
    }
}

/// Keeps an account's session alive while its client is borrowed.
pub struct Session(Arc<dyn CloudSession>);

impl Session {
    pub fn open(console: &Console, account: &Account) -> Result<Self, ApiError> {
        Ok(Self(console.session(account)?))
    }

    pub fn client(&self) -> Result<&QuectelClient, ApiError> {
        self.0
            .as_any()
            .and_then(|any| any.downcast_ref::<QuectelClient>())
            .ok_or_else(|| ApiError::internal("no Quectel client for this account"))
    }
}

/// The account and productKey of a deviceKey, from the cache (refreshed once when it is missing).
pub async fn locate(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
) -> Result<Located, ApiError> {
    let accounts = quectel_accounts(accounts)?;
    let device_key = device_key.trim();
    for attempt in 0..2 {
        for device in console.store().find_device(Cloud::Quectel, device_key)? {
            if let Some(account) = accounts.iter().find(|a| a.id == device.account_id) {
                return Located::of(account, device).ok_or_else(|| {
                    ApiError::not_found(format!("The cloud gave no productKey for {device_key}."))
                });
            }
        }
        if attempt == 0 {
            console.refresh_accounts(&accounts).await?;
        }
    }
    Err(
        ApiError::not_found(format!("No Quectel account lists the device {device_key}."))
            .with_hint("Check the deviceKey, or name the account it belongs to (--account)."),
    )
}

/// When [`cached_devices`] asks the cloud for the fleet first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetRefresh {
    Always,
    /// Only when the cache holds no Quectel device of these accounts.
    IfEmpty,
    Never,
}

/// Every cached Quectel device of these accounts that has a productKey, in the cache's order.
pub async fn cached_devices(
    console: &Console,
    accounts: &[Account],
    refresh: FleetRefresh,
) -> Result<Vec<Located>, ApiError> {
    let accounts = quectel_accounts(accounts)?;
    if refresh == FleetRefresh::Always {
        console.refresh_accounts(&accounts).await?;
    }
    let mut found = read_cached_devices(console, &accounts)?;
    if found.is_empty() && refresh == FleetRefresh::IfEmpty {
        console.refresh_accounts(&accounts).await?;
        found = read_cached_devices(console, &accounts)?;
    }
    Ok(found)
}

fn read_cached_devices(console: &Console, accounts: &[Account]) -> Result<Vec<Located>, ApiError> {
    let by_id: HashMap<i64, &Account> = accounts.iter().map(|a| (a.id, a)).collect();
    let mut found = Vec::new();
    let mut offset = 0;
    loop {
        let page = console.devices(&DeviceQuery {
            cloud: Some(Cloud::Quectel),
            offset,
            limit: MAX_PAGE_SIZE,
            ..Default::default()
        })?;
        let count = page.rows.len() as u32;
        for device in page.rows {
            if let Some(account) = by_id.get(&device.account_id) {
                found.extend(Located::of(account, device));
            }
        }
        offset += count;
        if count < MAX_PAGE_SIZE || offset >= page.matching {
            break;
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------------
// Reading plans.

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

// ---------------------------------------------------------------------------------------------------
// Acting on plans.

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

// ---------------------------------------------------------------------------------------------------
// Auto-upgrade.

/// A change to a device's user auto-confirmation mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoUpgradeChange {
    On,
    Off,
    /// Deletes the device's setting (auto mode off).
    Delete,
}

/// Whether the device is in auto-confirmation mode, as the cloud says.
pub async fn auto_upgrade(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
) -> Result<QuectelAutoUpgrade, ApiError> {
    let located = locate(console, accounts, device_key).await?;
    read_auto_upgrade(console, &located).await
}

async fn read_auto_upgrade(
    console: &Console,
    located: &Located,
) -> Result<QuectelAutoUpgrade, ApiError> {
    let session = Session::open(console, &located.account)?;
    let on = session
        .client()?
        .get_auto_upgrade(&located.product_key, &located.device_key)
        .await?;
    Ok(QuectelAutoUpgrade {
        device_key: located.device_key.clone(),
        on,
    })
}

/// Changes the switch; audited.
pub async fn change_auto_upgrade(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
    change: AutoUpgradeChange,
) -> Result<Located, ApiError> {
    let located = locate(console, accounts, device_key).await?;
    let session = Session::open(console, &located.account)?;
    let client = session.client()?;
    let (pk, dk) = (&located.product_key, &located.device_key);
    let (action, result) = match change {
        AutoUpgradeChange::On => (
            "quectel.auto_upgrade.on",
            client.set_auto_upgrade(pk, dk, true).await,
        ),
        AutoUpgradeChange::Off => (
            "quectel.auto_upgrade.off",
            client.set_auto_upgrade(pk, dk, false).await,
        ),
        AutoUpgradeChange::Delete => (
            "quectel.auto_upgrade.delete",
            client.delete_auto_upgrade(pk, dk).await,
        ),
    };
    console.audit(action, Some(Cloud::Quectel), Some(dk), &result);
    result?;
    Ok(located)
}

/// Changes the switch, then reads it back from the cloud (what the window shows is what the cloud holds).
pub async fn change_and_read_auto_upgrade(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
    change: AutoUpgradeChange,
) -> Result<QuectelAutoUpgrade, ApiError> {
    let located = change_auto_upgrade(console, accounts, device_key, change).await?;
    read_auto_upgrade(console, &located).await
}

// ---------------------------------------------------------------------------------------------------
// Bluetooth devices.

fn status_view(status: BleReportStatus) -> QuectelBleStatus {
    QuectelBleStatus {
        code: status.code() as u8,
        name: status.name().to_string(),
        meaning: status.meaning().to_string(),
        failure: status.is_failure(),
        outcome: status.is_failure() || status == BleReportStatus::Succeeded,
    }
}

/// The Bluetooth report table, in code order.
pub fn ble_statuses() -> Vec<QuectelBleStatus> {
    BleReportStatus::all().map(status_view).collect()
}

/// The status with this `reportStatus` code, or why there is none.
pub fn ble_status(code: i64) -> Result<BleReportStatus, ApiError> {
    BleReportStatus::from_code(code).ok_or_else(|| {
        ApiError::validation(format!(
            "{code} is not a Bluetooth report status; use a code from 0 to 12."
        ))
    })
}

fn no_ble_plan(device_key: &str) -> ApiError {
    ApiError::not_found(format!(
        "Quectel has no open Bluetooth plan for {device_key}."
    ))
}

/// The Bluetooth plan as the cloud gives it (`None` when there is none), with the device.
pub async fn ble_fetch_plan(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
) -> Result<(Located, Option<BlePlan>), ApiError> {
    let located = locate(console, accounts, device_key).await?;
    let session = Session::open(console, &located.account)?;
    let plan = session
        .client()?
        .fetch_plan(&located.product_key, &located.device_key)
        .await?;
    Ok((located, plan))
}

/// The Bluetooth plan as the window shows it.
pub async fn ble_fetch(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
) -> Result<Option<QuectelBlePlan>, ApiError> {
    let (located, plan) = ble_fetch_plan(console, accounts, device_key).await?;
    Ok(plan.map(|p| QuectelBlePlan {
        device_key: located.device_key,
        plan_id: p.plan_id,
        target_version: p.target_version,
        component_no: p.component_no,
        description: p.desc,
        file_name: p.file_name,
        file_size: p.file_size,
        file_sign: p.file_sign,
    }))
}

async fn report_for(
    console: &Console,
    client: &QuectelClient,
    located: &Located,
    component: &str,
    status: BleReportStatus,
) -> Result<QuectelBleReported, ApiError> {
    let result = client
        .report_status(&located.product_key, &located.device_key, component, status)
        .await;
    console.audit(
        &format!("quectel.ble.report {}", status.name()),
        Some(Cloud::Quectel),
        Some(&located.device_key),
        &result,
    );
    result?;
    Ok(QuectelBleReported {
        device_key: located.device_key.clone(),
        status: status_view(status),
        message: format!(
            "Quectel recorded {} ({}): {}.",
            status.code(),
            status.name(),
            status.meaning()
        ),
    })
}

/// Reports a step or the outcome of a Bluetooth upgrade (componentNo defaults to the plan's); audited.
/// After "succeeded" the account's fleet is read again so the device shows its new firmware.
pub async fn ble_report(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
    status: BleReportStatus,
    component: Option<String>,
) -> Result<QuectelBleReported, ApiError> {
    let located = locate(console, accounts, device_key).await?;
    let session = Session::open(console, &located.account)?;
    let client = session.client()?;
    let component = match component.filter(|c| !c.trim().is_empty()) {
        Some(c) => c,
        None => client
            .fetch_plan(&located.product_key, &located.device_key)
            .await?
            .and_then(|p| p.component_no)
            .ok_or_else(|| no_ble_plan(&located.device_key))?,
    };
    let reported = report_for(console, client, &located, &component, status).await?;
    if status == BleReportStatus::Succeeded {
        if let Err(err) = console
            .refresh_accounts(std::slice::from_ref(&located.account))
            .await
        {
            tracing::info!(error = %err.display_line(), "refresh after a Bluetooth result failed");
        }
        console.notify(DataKind::Devices);
    }
    Ok(reported)
}

/// Where the window keeps a device's Bluetooth packages: `<data>/downloads/quectel/<deviceKey>/`.
pub fn ble_download_dir(data_dir: &Path, device_key: &str) -> PathBuf {
    let safe: String = device_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.chars().all(|c| c == '.') {
        "_".repeat(safe.len().max(1))
    } else {
        safe
    };
    data_dir.join("downloads").join("quectel").join(safe)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct BleDownloadOptions {
    /// Report "downloading" before and "downloaded" (or "failed-checksum" / "failed-download") after, as
    /// the app does in the vendor's flow.
    pub report_steps: bool,
}

fn progress_of(
    device_key: &str,
    phase: QuectelBlePhase,
    received: u64,
    total: Option<u64>,
) -> QuectelBleProgress {
    let percent = match (phase, total) {
        (QuectelBlePhase::Done, _) => 100,
        (_, Some(total)) if total > 0 => ((received.min(total) * 100) / total) as u8,
        _ => 0,
    };
    QuectelBleProgress {
        device_key: device_key.to_string(),
        phase,
        received,
        total,
        percent,
    }
}

/// Downloads the open Bluetooth plan's package into `dir`, verified against its SHA-256 (the file is kept
/// only when it matches); progress at most every 100 ms and always the final state. Audited.
pub async fn ble_download(
    console: &Console,
    accounts: &[Account],
    device_key: &str,
    dir: &Path,
    options: BleDownloadOptions,
    progress: &mut (dyn FnMut(QuectelBleProgress) + Send),
) -> Result<VerifiedPackage, ApiError> {
    let located = locate(console, accounts, device_key).await?;
    let session = Session::open(console, &located.account)?;
    let client = session.client()?;
    let dk = located.device_key.clone();
    let plan = client
        .fetch_plan(&located.product_key, &dk)
        .await?
        .ok_or_else(|| no_ble_plan(&dk))?;
    let component = plan.component_no.clone().unwrap_or_default();
    let total = plan.file_size.and_then(|s| u64::try_from(s).ok());
    if options.report_steps {
        report_for(
            console,
            client,
            &located,
            &component,
            BleReportStatus::Downloading,
        )
        .await?;
    }
    tokio::fs::create_dir_all(dir).await.map_err(|e| {
        ApiError::internal(format!("Cannot create the folder {}: {e}", dir.display()))
    })?;

    progress(progress_of(&dk, QuectelBlePhase::Downloading, 0, total));
    let mut last_sent = Instant::now();
    let mut received = 0;
    let result = client
        .download_package_with_progress(&plan, dir, &mut |bytes| {
            received = bytes;
            let complete = total.is_some_and(|t| bytes >= t);
            if complete || last_sent.elapsed() >= PROGRESS_GAP {
                let phase = if complete {
                    QuectelBlePhase::Verifying
                } else {
                    QuectelBlePhase::Downloading
                };
                progress(progress_of(&dk, phase, bytes, total));
                last_sent = Instant::now();
            }
        })
        .await;
    let audited = result.as_ref().map(|_| ()).map_err(Clone::clone);
    console.audit(
        &format!(
            "quectel.ble.download {}",
            plan.target_version.as_deref().unwrap_or("?")
        ),
        Some(Cloud::Quectel),
        Some(&dk),
        &audited,
    );
    match &result {
        Ok(package) => progress(progress_of(
            &dk,
            QuectelBlePhase::Done,
            package.size,
            Some(package.size),
        )),
        Err(_) => progress(progress_of(&dk, QuectelBlePhase::Failed, received, total)),
    }
    if options.report_steps {
        let step = match &result {
            Ok(_) => BleReportStatus::Downloaded,
            Err(err) if err.code == ErrorKind::Device => BleReportStatus::FailedChecksum,
            Err(_) => BleReportStatus::FailedDownload,
        };
        if let Err(err) = report_for(console, client, &located, &component, step).await {
            tracing::warn!(error = %err.display_line(), step = step.name(), "could not report a Bluetooth download step");
            if result.is_ok() {
                return Err(err.with_hint(
                    "The package was downloaded and verified, but Quectel was not told; report again.",
                ));
            }
        }
    }
    result
}

/// [`ble_download`] as the window shows the result.
pub fn package_view(device_key: &str, package: &VerifiedPackage) -> QuectelBlePackage {
    QuectelBlePackage {
        device_key: device_key.to_string(),
        path: package.path.display().to_string(),
        size: package.size,
        sha256: package.sha256.clone(),
    }
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

    #[test]
    fn the_report_table_marks_outcomes() {
        let table = ble_statuses();
        assert_eq!(table.len(), 13);
        assert!(!table[0].outcome && !table[0].failure);
        let succeeded = table.iter().find(|s| s.name == "succeeded").unwrap();
        assert!(succeeded.outcome && !succeeded.failure);
        assert!(table.iter().filter(|s| s.failure).all(|s| s.outcome));
        assert!(ble_status(13).is_err());
        assert_eq!(ble_status(6).unwrap(), BleReportStatus::FailedChecksum);
    }

    #[test]
    fn download_dir_is_safe() {
        let dir = ble_download_dir(Path::new("/data"), "../x y");
        assert_eq!(dir, Path::new("/data/downloads/quectel/.._x_y"));
        let dots = ble_download_dir(Path::new("/data"), "..");
        assert_eq!(dots, Path::new("/data/downloads/quectel/__"));
        let p = progress_of("d", QuectelBlePhase::Downloading, 50, Some(200));
        assert_eq!(p.percent, 25);
        assert_eq!(
            progress_of("d", QuectelBlePhase::Done, 0, None).percent,
            100
        );
    }
}
