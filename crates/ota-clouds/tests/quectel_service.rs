//! The Quectel plan workflow as the window and `otactl` run it (`ota_clouds::quectel::service`): a Console
//! on a real store, the sandbox accounts of a simulator on loopback.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{create_plan, fault, product_with, sandbox_console, sim_log, TARGET};
use ota_clouds::quectel::service::{self, AutoUpgradeChange, BleDownloadOptions};
use ota_core::quectel::{
    QuectelActionReport, QuectelBlePhase, QuectelBleProgress, QuectelBleReported,
    QuectelPlanAction, QuectelPlanItem, QuectelPlanRow, QuectelPlanState, QuectelWindow,
};
use ota_core::{Account, ApiError, Cloud, Console, ErrorKind};
use ota_sim::SimHandle;
use serde_json::json;

const HOUR: i64 = 3_600_000;

struct Setup {
    sim: SimHandle,
    _data: tempfile::TempDir,
    console: Arc<Console>,
    accounts: Vec<Account>,
}

/// 100 simulated seconds per real second: an upgrade (60 s simulated) takes 0.6 s.
async fn setup() -> Setup {
    let sim = common::sim(90, 11, 100.0).await;
    let data = tempfile::tempdir().unwrap();
    let (console, accounts) = sandbox_console(&sim, data.path()).await;
    Setup {
        sim,
        _data: data,
        console,
        accounts,
    }
}

impl Setup {
    /// Takes `action` on the plans of `items` as the window does.
    async fn act(
        &self,
        items: &[QuectelPlanItem],
        action: QuectelPlanAction,
        window: Option<QuectelWindow>,
    ) -> Result<QuectelActionReport, ApiError> {
        service::act(&self.console, &self.accounts, items, action, window).await
    }

    /// Appoints the upgrade of `item` in `window` (None: no window given).
    async fn appoint(
        &self,
        item: &QuectelPlanItem,
        window: Option<QuectelWindow>,
    ) -> Result<QuectelActionReport, ApiError> {
        let appoint = QuectelPlanAction::Appoint;
        self.act(std::slice::from_ref(item), appoint, window).await
    }

    /// Reports the Bluetooth status with `code` for `device_key`, its component found by the service.
    async fn ble_report(&self, device_key: &str, code: i64) -> QuectelBleReported {
        let status = service::ble_status(code).unwrap();
        service::ble_report(&self.console, &self.accounts, device_key, status, None)
            .await
            .unwrap()
    }
}

async fn batch_calls(sim: &SimHandle) -> usize {
    sim_log(sim)
        .await
        .iter()
        .filter(|e| {
            e["endpoint"]
                .as_str()
                .is_some_and(|p| p.ends_with("userBatchConfirmUpgrade"))
        })
        .count()
}

fn window(start_ms: i64, end_ms: i64) -> Option<QuectelWindow> {
    Some(QuectelWindow { start_ms, end_ms })
}

fn item(device_key: &str, plan_id: i64) -> QuectelPlanItem {
    QuectelPlanItem {
        device_key: device_key.to_string(),
        plan_id,
    }
}

fn row_of<'a>(rows: &'a [QuectelPlanRow], device_key: &str) -> &'a QuectelPlanRow {
    rows.iter()
        .find(|r| r.device_key == device_key)
        .unwrap_or_else(|| panic!("no row for {device_key} in {rows:?}"))
}

/// Polls the plan's details (as the window does every 3 s) until the row is in `state`.
async fn wait_for(s: &Setup, it: &QuectelPlanItem, state: QuectelPlanState) -> QuectelPlanRow {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let rows = service::plan_details(&s.console, &s.accounts, std::slice::from_ref(it))
            .await
            .unwrap();
        if let Some(row) = rows.first().filter(|r| r.state == state) {
            return row.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{} never reached {state:?}: {rows:?}",
            it.device_key
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_are_listed_appointed_cancelled_and_confirmed_with_an_answer_per_device() {
    let s = setup().await;
    let (pk, devices) = product_with(&s.sim, "mqtt", 3).await;
    let (a, b, c) = (&devices[0], &devices[1], &devices[2]);
    let (plan_id, now) = create_plan(&s.sim, &pk, &devices[..3]).await;

    // Nothing cached yet; the live list has the three devices of the plan, each once, beside the plans
    // the sandbox starts with.
    let cached = service::cached_plan_list(&s.console, &s.accounts)
        .await
        .unwrap();
    assert!(cached.rows.is_empty() && !cached.live);
    let list = service::plan_list(&s.console, &s.accounts).await.unwrap();
    assert!(list.live, "{:?}", list.errors);
    assert!(list.devices >= 3);
    let mut ours: Vec<&str> = list
        .rows
        .iter()
        .filter(|r| r.plan_id == plan_id)
        .map(|r| r.device_key.as_str())
        .collect();
    ours.sort_unstable();
    let mut expected = [a.as_str(), b.as_str(), c.as_str()];
    expected.sort_unstable();
    assert_eq!(ours, expected, "{:?}", list.rows);
    let devices_listed: std::collections::BTreeSet<&str> =
        list.rows.iter().map(|r| r.device_key.as_str()).collect();
    assert_eq!(devices_listed.len(), list.rows.len(), "one row per device");
    assert!(
        list.rows.iter().any(|r| r.plan_id != plan_id),
        "the sandbox's own plans are listed too"
    );
    let first = row_of(&list.rows, a);
    assert_eq!(first.plan_id, plan_id);
    assert_eq!(first.product_key, pk);
    assert_eq!(first.target_version, TARGET);
    assert_eq!(first.state, QuectelPlanState::Waiting);
    assert!(first.actions.confirm && first.actions.appoint && first.actions.cancel);
    assert!(!first.actions.retry && !first.bluetooth && !first.cached);
    assert!(first.plan_start.unwrap() <= now && first.plan_end.unwrap() > now);
    assert_ne!(first.device_name, "");
    // The store now paints the same rows without asking.
    let cached = service::cached_plan_list(&s.console, &s.accounts)
        .await
        .unwrap();
    assert_eq!(cached.rows.len(), list.rows.len());
    assert!(cached.rows.iter().all(|r| r.cached));

    // 59 minutes: refused before anything is sent, saying which rule.
    let sent_before = batch_calls(&s.sim).await;
    let first_item = item(a, plan_id);
    let short = s
        .appoint(&first_item, window(now + 2 * HOUR, now + 3 * HOUR - 60_000))
        .await
        .unwrap_err();
    common::assert_refused(&short, "at least 1 hour");
    let outside = s
        .appoint(&first_item, window(now - 3 * HOUR, now))
        .await
        .unwrap_err();
    assert!(
        outside.message.contains("inside the plan period"),
        "{}",
        outside.message
    );
    let missing: ApiError = s.appoint(&first_item, None).await.unwrap_err();
    assert_eq!(missing.code, ErrorKind::Validation);
    assert_eq!(batch_calls(&s.sim).await, sent_before);

    // A valid window: appointed, with the window in the row.
    let valid = window(now + 2 * HOUR, now + 4 * HOUR);
    let appointed = s.appoint(&first_item, valid).await.unwrap();
    assert!(appointed.results[0].ok, "{:?}", appointed.results);
    let row = row_of(&appointed.rows, a);
    assert_eq!(row.state, QuectelPlanState::Appointed);
    assert_eq!(
        (row.appoint_start, row.appoint_end),
        valid.map(|w| (Some(w.start_ms), Some(w.end_ms))).unwrap()
    );

    // Cancel ends the plan as failed, without retry.
    let cancelled = s
        .act(&[item(b, plan_id)], QuectelPlanAction::Cancel, None)
        .await
        .unwrap();
    let row = row_of(&cancelled.rows, b);
    assert_eq!(row.state, QuectelPlanState::Cancelled);
    assert_eq!(row.device_status, 3);
    assert!(!row.actions.retry && !row.actions.confirm);

    // A batch: one device takes it, the cancelled one is refused with the cloud's reason.
    let batch = s
        .act(
            &[item(c, plan_id), item(b, plan_id)],
            QuectelPlanAction::Confirm,
            None,
        )
        .await
        .unwrap();
    assert_eq!(batch.results.len(), 2);
    assert!(batch.results[0].ok && batch.results[0].device_key == *c);
    let refused = &batch.results[1];
    assert!(!refused.ok);
    let error = refused.error.as_ref().unwrap();
    assert_eq!(error.code, ErrorKind::Conflict);
    assert_eq!(error.vendor_code.as_deref(), Some("409"));
    let done = wait_for(&s, &item(c, plan_id), QuectelPlanState::Succeeded).await;
    assert_eq!(done.percent, 100);

    // Every decision is in the audit log, per device.
    let audit = s.console.store().audit_entries(100).unwrap();
    let confirms: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "quectel.plan.confirm")
        .collect();
    assert_eq!(confirms.len(), 2);
    assert!(confirms
        .iter()
        .any(|e| e.target.as_deref() == Some(b.as_str()) && e.result == "error"));
    assert!(audit
        .iter()
        .any(|e| e.action == "quectel.plan.appoint" && e.result == "ok"));

    let unknown = service::locate(&s.console, &s.accounts, "no-such-device")
        .await
        .unwrap_err();
    assert_eq!(unknown.code, ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_upgrade_can_be_retried() {
    let s = setup().await;
    let (pk, devices) = product_with(&s.sim, "mqtt", 1).await;
    let dk = &devices[0];
    let (plan_id, _) = create_plan(&s.sim, &pk, &devices[..1]).await;
    fault(
        &s.sim,
        json!({"kind": "quectel_upgrade_fail", "target": dk, "count": 1}),
    )
    .await;
    let it = item(dk, plan_id);
    let confirmed = s
        .act(std::slice::from_ref(&it), QuectelPlanAction::Confirm, None)
        .await
        .unwrap();
    assert!(confirmed.results[0].ok);
    let failed = wait_for(&s, &it, QuectelPlanState::Failed).await;
    assert!(failed.actions.retry && !failed.actions.cancel);
    assert!(failed.percent < 100);

    let retried = s
        .act(std::slice::from_ref(&it), QuectelPlanAction::Retry, None)
        .await
        .unwrap();
    assert!(retried.results[0].ok, "{:?}", retried.results);
    wait_for(&s, &it, QuectelPlanState::Succeeded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_auto_upgrade_switch_is_read_back_from_the_cloud() {
    let s = setup().await;
    let (_, devices) = product_with(&s.sim, "mqtt", 1).await;
    let dk = devices[0].as_str();
    let read = |s: &Setup| {
        let (console, accounts) = (s.console.clone(), s.accounts.clone());
        async move {
            service::auto_upgrade(&console, &accounts, dk)
                .await
                .unwrap()
                .on
        }
    };
    assert!(!read(&s).await);
    let on =
        service::change_and_read_auto_upgrade(&s.console, &s.accounts, dk, AutoUpgradeChange::On)
            .await
            .unwrap();
    assert!(on.on && on.device_key == dk);
    assert!(read(&s).await);
    let off = service::change_and_read_auto_upgrade(
        &s.console,
        &s.accounts,
        dk,
        AutoUpgradeChange::Delete,
    )
    .await
    .unwrap();
    assert!(!off.on);
    let audit = s.console.store().audit_entries(10).unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "quectel.auto_upgrade.on" && e.target.as_deref() == Some(dk)));
}

#[tokio::test(flavor = "multi_thread")]
async fn bluetooth_fetch_confirm_download_with_progress_and_report_the_outcome() {
    let s = setup().await;
    let (pk, devices) = product_with(&s.sim, "ble", 1).await;
    let dk = devices[0].as_str();
    let (plan_id, _) = create_plan(&s.sim, &pk, &devices[..1]).await;

    let list = service::plan_list(&s.console, &s.accounts).await.unwrap();
    let row = row_of(&list.rows, dk);
    assert!(row.bluetooth);
    assert_eq!(row.actions, Default::default());

    let plan = service::ble_fetch(&s.console, &s.accounts, dk)
        .await
        .unwrap()
        .expect("a Bluetooth plan");
    assert_eq!(plan.plan_id, Some(plan_id));
    let sign = plan.file_sign.clone().unwrap();
    let size = plan.file_size.unwrap() as u64;

    let confirmed = s.ble_report(dk, 0).await;
    assert_eq!(confirmed.status.name, "confirmed");
    assert!(
        confirmed.message.contains("the user confirmed"),
        "{}",
        confirmed.message
    );

    let dir = tempfile::tempdir().unwrap();
    let seen: Arc<Mutex<Vec<QuectelBleProgress>>> = Arc::default();
    let sink = seen.clone();
    let package = service::ble_download(
        &s.console,
        &s.accounts,
        dk,
        dir.path(),
        BleDownloadOptions { report_steps: true },
        &mut move |p| sink.lock().unwrap().push(p),
    )
    .await
    .unwrap();
    assert_eq!(package.sha256, sign);
    assert_eq!(package.size, size);
    assert!(package.path.is_file());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first().unwrap().phase, QuectelBlePhase::Downloading);
    let last = seen.last().unwrap();
    assert_eq!(
        (last.phase, last.percent, last.received),
        (QuectelBlePhase::Done, 100, size)
    );
    assert!(seen.windows(2).all(|w| w[0].received <= w[1].received));
    // "downloaded" was reported: the device is upgrading in the cloud's eyes, and still not a batch target.
    let it = item(dk, plan_id);
    let upgrading = wait_for(&s, &it, QuectelPlanState::Upgrading).await;
    assert!(upgrading.bluetooth && upgrading.percent > 0);

    let done = s.ble_report(dk, 4).await;
    assert!(done.status.outcome && !done.status.failure);
    wait_for(&s, &it, QuectelPlanState::Succeeded).await;
    // The fleet was read again: the cached device shows the new firmware.
    let device = s.console.store().find_device(Cloud::Quectel, dk).unwrap();
    assert_eq!(device[0].firmware, TARGET);

    let audit = s.console.store().audit_entries(20).unwrap();
    for action in [
        "quectel.ble.report confirmed",
        "quectel.ble.report downloading",
        "quectel.ble.report downloaded",
        "quectel.ble.report succeeded",
    ] {
        assert!(audit.iter().any(|e| e.action == action), "{action} missing");
    }
}
