//! Quectel upgrade plans, auto-upgrade and the Bluetooth flow: the client against the simulator on loopback.

mod common;

use std::time::{Duration, Instant};

use common::{
    advance_clock, create_plan, fault, fleet_of, product_with, sandbox_account, sim_get, sim_log,
    sim_post, TARGET,
};
use ota_clouds::quectel::plans::{confirm_status, device_status, ConfirmItem};
use ota_clouds::quectel::{BleReportStatus, PlanAction, PlanTarget, QuectelClient, UpgradePlan};
use ota_clouds::RetryPolicy;
use ota_core::cloud::SessionCache;
use ota_core::{Cloud, ErrorKind};
use ota_sim::SimHandle;
use serde_json::json;

const HOUR: i64 = 3_600_000;

/// 100 simulated seconds per real second: an upgrade (60 s simulated) takes 0.6 s.
async fn start_sim() -> SimHandle {
    common::sim(90, 11, 100.0).await
}

async fn client(sim: &SimHandle) -> QuectelClient {
    let account = sandbox_account(sim, Cloud::Quectel).await;
    QuectelClient::new(
        ota_clouds::http::build_client(&Default::default()).unwrap(),
        ota_clouds::http::BaseUrl::parse(&sim.url()).unwrap(),
        account.credentials,
        SessionCache::in_memory(),
        RetryPolicy::none(),
    )
    .unwrap()
}

/// (productKey, deviceKey) of a Quectel device of this transport that has no plan: the sandbox starts
/// some devices of every product with one, the others with none.
async fn device_without_plan(
    sim: &SimHandle,
    client: &QuectelClient,
    transport: &str,
) -> (String, String) {
    for d in fleet_of(sim, "quectel").await {
        if d["transport"] != transport {
            continue;
        }
        let (pk, dk) = (
            d["product_key"].as_str().unwrap(),
            d["id"].as_str().unwrap(),
        );
        let none = if transport == "ble" {
            client.fetch_plan(pk, dk).await.unwrap().is_none()
        } else {
            client.get_plan(pk, dk).await.unwrap().is_none()
        };
        if none {
            return (pk.to_string(), dk.to_string());
        }
    }
    panic!("every {transport} device has a plan");
}

async fn advance(sim: &SimHandle, ms: i64) {
    advance_clock(sim, Duration::from_millis(ms as u64)).await;
}

async fn firmware(sim: &SimHandle, dk: &str) -> String {
    sim_get(sim, &format!("/_sim/devices/{dk}")).await["firmware"]
        .as_str()
        .unwrap()
        .to_string()
}

fn target(pk: &str, dk: &str, plan_id: i64) -> PlanTarget {
    PlanTarget {
        product_key: pk.into(),
        device_key: dk.into(),
        plan_id,
    }
}

async fn plan(client: &QuectelClient, pk: &str, dk: &str) -> UpgradePlan {
    client.get_plan(pk, dk).await.unwrap().expect("a plan")
}

/// Polls the plan until its device status is `status` (10 s real at most).
async fn wait_for(client: &QuectelClient, pk: &str, dk: &str, status: i64) -> UpgradePlan {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let p = plan(client, pk, dk).await;
        if p.device_status == Some(status) {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "device status stayed {:?}, wanted {status}",
            p.device_status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A simulator, its Quectel client, and an MQTT device with a fresh plan to [`TARGET`].
struct Planned {
    sim: SimHandle,
    client: QuectelClient,
    pk: String,
    dk: String,
    plan_id: i64,
    /// The simulator's wall clock when the plan was made, in ms.
    now: i64,
}

impl Planned {
    fn target(&self) -> PlanTarget {
        target(&self.pk, &self.dk, self.plan_id)
    }

    async fn plan(&self) -> UpgradePlan {
        plan(&self.client, &self.pk, &self.dk).await
    }

    async fn wait_for(&self, status: i64) -> UpgradePlan {
        wait_for(&self.client, &self.pk, &self.dk, status).await
    }

    async fn firmware(&self) -> String {
        firmware(&self.sim, &self.dk).await
    }
}

async fn planned() -> Planned {
    let sim = start_sim().await;
    let client = client(&sim).await;
    let (pk, devices) = product_with(&sim, "mqtt", 1).await;
    let dk = devices[0].clone();
    plan_for(sim, client, pk, dk).await
}

/// Makes a plan for the device `dk` of product `pk`.
async fn plan_for(sim: SimHandle, client: QuectelClient, pk: String, dk: String) -> Planned {
    let (plan_id, now) = create_plan(&sim, &pk, std::slice::from_ref(&dk)).await;
    Planned {
        sim,
        client,
        pk,
        dk,
        plan_id,
        now,
    }
}

/// As [`planned`], on a device of `transport` that had no plan: the client read none before.
async fn first_plan_of(transport: &str) -> Planned {
    let sim = start_sim().await;
    let client = client(&sim).await;
    let (pk, dk) = device_without_plan(&sim, &client, transport).await;
    let none = if transport == "ble" {
        client.fetch_plan(&pk, &dk).await.unwrap().is_none()
    } else {
        client.get_plan(&pk, &dk).await.unwrap().is_none()
    };
    assert!(none, "{dk} has no plan to begin with");
    plan_for(sim, client, pk, dk).await
}

#[tokio::test]
async fn no_plan_reads_as_none_and_confirm_upgrades_to_success() {
    let p = first_plan_of("mqtt").await;
    let (sim, client, pk, dk, plan_id) = (&p.sim, &p.client, &p.pk, &p.dk, p.plan_id);
    let waiting = plan(client, pk, dk).await;
    assert_eq!(waiting.plan_id, Some(plan_id));
    assert_eq!(waiting.device_status, Some(device_status::NOT_UPGRADED));
    assert_eq!(
        waiting.user_confirm_status,
        Some(confirm_status::UNCONFIRMED)
    );
    assert_eq!(waiting.target_version(), Some(TARGET));

    let outcome = client
        .confirm_upgrade(&[target(pk, dk, plan_id)])
        .await
        .unwrap();
    assert!(outcome.all_succeeded(), "{outcome:?}");
    assert_eq!(outcome.success_list.len(), 1);
    let upgrading = plan(client, pk, dk).await;
    assert_eq!(upgrading.device_status, Some(device_status::UPGRADING));
    assert_eq!(
        upgrading.user_confirm_status,
        Some(confirm_status::UPGRADE_NOW)
    );
    let done = wait_for(client, pk, dk, device_status::SUCCEEDED).await;
    assert_eq!(done.percent(), 100);
    assert_eq!(firmware(sim, dk).await, TARGET);
}

#[tokio::test]
async fn an_appointment_starts_only_inside_its_window() {
    let p = planned().await;
    let (start, end) = (p.now + 2 * HOUR, p.now + 3 * HOUR);
    let outcome = p
        .client
        .appoint_upgrade(&[p.target()], start, end)
        .await
        .unwrap();
    assert!(outcome.all_succeeded(), "{outcome:?}");
    let appointed = p.plan().await;
    assert_eq!(
        appointed.user_confirm_status,
        Some(confirm_status::APPOINTED)
    );
    assert_eq!(
        (appointed.appoint_start_time, appointed.appoint_end_time),
        (Some(start), Some(end))
    );

    advance(&p.sim, HOUR).await;
    let before = p.plan().await;
    assert_eq!(before.device_status, Some(device_status::NOT_UPGRADED));

    // Ten simulated seconds into the window.
    advance(&p.sim, HOUR + 10_000).await;
    let inside = p.plan().await;
    assert_eq!(inside.device_status, Some(device_status::UPGRADING));
    assert!(inside.percent() < 100);
    p.wait_for(device_status::SUCCEEDED).await;
    assert_eq!(p.firmware().await, TARGET);
}

#[tokio::test]
async fn bad_appointments_are_refused_by_the_client_and_by_the_cloud() {
    let p = planned().await;
    let (now, client, t) = (p.now, &p.client, p.target());
    let plan_end = p.plan().await.plan_end_time.unwrap();

    let short = client
        .appoint_upgrade(
            std::slice::from_ref(&t),
            now + HOUR,
            now + HOUR + 59 * 60_000,
        )
        .await
        .unwrap_err();
    assert_eq!(short.code, ErrorKind::Validation);
    assert!(
        short.message.contains("at least 1 hour") && short.message.contains("59 minutes"),
        "{}",
        short.message
    );
    let outside = client
        .appoint_upgrade(std::slice::from_ref(&t), plan_end - HOUR, plan_end + HOUR)
        .await
        .unwrap_err();
    common::assert_refused(&outside, "inside the plan period");
    // Nothing was sent.
    assert!(!sim_log(&p.sim)
        .await
        .iter()
        .any(|e| e["endpoint"] == "/v2/quecota/enduserapi/v2/userBatchConfirmUpgrade"));

    // Forced through without the client's checks, the cloud refuses them too.
    let appoint = |start_ms, end_ms| ConfirmItem::new(&t, PlanAction::Appoint { start_ms, end_ms });
    let forced = client
        .send_batch(&[
            appoint(now + HOUR, now + HOUR + 59 * 60_000),
            appoint(plan_end - HOUR, plan_end + HOUR),
        ])
        .await
        .unwrap();
    assert!(forced.success_list.is_empty());
    assert_eq!(forced.fail_list.len(), 2);
    let refusal = |i: usize| forced.fail_list[i].msg.clone().unwrap();
    assert!(refusal(0).contains("at least 1 hour"), "{}", refusal(0));
    assert!(
        refusal(1).contains("inside the plan period"),
        "{}",
        refusal(1)
    );
    assert_eq!(forced.fail_list[0].error().code, ErrorKind::Validation);
    let still = p.plan().await;
    assert_eq!(still.user_confirm_status, Some(confirm_status::UNCONFIRMED));
}

#[tokio::test]
async fn cancel_ends_the_plan_as_failed() {
    let p = planned().await;
    let before = p.firmware().await;
    let t = p.target();
    let cancel = p.client.cancel_upgrade(std::slice::from_ref(&t)).await;
    assert!(cancel.unwrap().all_succeeded());
    let cancelled = p.plan().await;
    assert_eq!(cancelled.device_status, Some(device_status::FAILED));
    assert_eq!(
        cancelled.user_confirm_status,
        Some(confirm_status::CANCELLED)
    );
    assert!(cancelled.is_finished());
    // A cancelled plan has ended: neither confirm nor retry revives it.
    let again = p.client.confirm_upgrade(std::slice::from_ref(&t)).await;
    assert_eq!(
        again.unwrap().fail_list[0].error().code,
        ErrorKind::Conflict
    );
    assert_eq!(p.firmware().await, before);
}

#[tokio::test]
async fn retry_after_a_failure_succeeds() {
    let p = planned().await;
    let t = p.target();
    // Retry before any failure is refused.
    let early = p.client.retry_upgrade(std::slice::from_ref(&t)).await;
    let refusal = early.unwrap().fail_list[0].msg.clone().unwrap();
    assert!(
        refusal.contains("only possible after a failed upgrade"),
        "{refusal}"
    );

    let fails_once = json!({"kind": "quectel_upgrade_fail", "target": p.dk, "count": 1});
    fault(&p.sim, fails_once).await;
    p.client
        .confirm_upgrade(std::slice::from_ref(&t))
        .await
        .unwrap();
    let failed = p.wait_for(device_status::FAILED).await;
    assert_eq!(
        failed.user_confirm_status,
        Some(confirm_status::UPGRADE_NOW)
    );
    assert!(failed.percent() < 100);

    let retried = p.client.retry_upgrade(std::slice::from_ref(&t)).await;
    let retried = retried.unwrap();
    assert!(retried.all_succeeded(), "{retried:?}");
    assert_eq!(p.plan().await.device_status, Some(device_status::UPGRADING));
    p.wait_for(device_status::SUCCEEDED).await;
    assert_eq!(p.firmware().await, TARGET);
}

#[tokio::test]
async fn auto_upgrade_pushes_new_plans_until_turned_off_or_deleted() {
    let sim = start_sim().await;
    let client = client(&sim).await;
    let (pk, devices) = product_with(&sim, "mqtt", 2).await;
    let (on_dk, off_dk) = (&devices[0], &devices[1]);
    assert!(!client.get_auto_upgrade(&pk, on_dk).await.unwrap());

    client.set_auto_upgrade(&pk, on_dk, true).await.unwrap();
    client.set_auto_upgrade(&pk, off_dk, true).await.unwrap();
    assert!(client.get_auto_upgrade(&pk, on_dk).await.unwrap());
    client.set_auto_upgrade(&pk, off_dk, false).await.unwrap();
    assert!(!client.get_auto_upgrade(&pk, off_dk).await.unwrap());

    create_plan(&sim, &pk, &devices[..2]).await;
    let pushed = plan(&client, &pk, on_dk).await;
    assert_eq!(pushed.device_status, Some(device_status::UPGRADING));
    assert_eq!(pushed.auto_upgrade, Some(true));
    wait_for(&client, &pk, on_dk, device_status::SUCCEEDED).await;
    advance(&sim, 10 * 60_000).await;
    let waits = plan(&client, &pk, off_dk).await;
    assert_eq!(waits.device_status, Some(device_status::NOT_UPGRADED));
    assert_eq!(waits.user_confirm_status, Some(confirm_status::UNCONFIRMED));

    // Deleting the setting turns auto mode off: the next plan waits for a decision.
    client.delete_auto_upgrade(&pk, on_dk).await.unwrap();
    assert!(!client.get_auto_upgrade(&pk, on_dk).await.unwrap());
    let next_plan = json!({"targetVersion": "10.0.0", "productKey": pk, "deviceKeys": [on_dk]});
    sim_post(&sim, "/_sim/quectel/plans", next_plan).await;
    advance(&sim, 10 * 60_000).await;
    let next = plan(&client, &pk, on_dk).await;
    assert_eq!(next.target_version(), Some("10.0.0"));
    assert_eq!(next.device_status, Some(device_status::NOT_UPGRADED));
}

#[tokio::test]
async fn a_mixed_batch_reports_each_device() {
    let sim = start_sim().await;
    let client = client(&sim).await;
    let (pk, devices) = product_with(&sim, "mqtt", 3).await;
    let (plan_id, _) = create_plan(&sim, &pk, &devices[..3]).await;
    let targets: Vec<PlanTarget> = devices[..3]
        .iter()
        .map(|dk| target(&pk, dk, plan_id))
        .collect();
    client.cancel_upgrade(&targets[2..]).await.unwrap();
    let mut unknown = targets[0].clone();
    unknown.plan_id += 1000;

    let mut batch = targets.clone();
    batch.push(unknown);
    let outcome = client.confirm_upgrade(&batch).await.unwrap();
    let ok: Vec<&str> = outcome
        .success_list
        .iter()
        .map(|r| r.device_key.as_deref().unwrap())
        .collect();
    assert_eq!(ok, [devices[0].as_str(), devices[1].as_str()]);
    assert_eq!(outcome.fail_list.len(), 2);
    assert_eq!(
        outcome.fail_list[0].device_key.as_deref(),
        Some(devices[2].as_str())
    );
    assert_eq!(outcome.fail_list[0].error().code, ErrorKind::Conflict);
    assert_eq!(outcome.fail_list[1].error().code, ErrorKind::NotFound);

    let details = client.batch_details(&targets).await.unwrap();
    assert_eq!(details.len(), 3);
    let status_of = |dk: &str| {
        details
            .iter()
            .find(|p| p.device_key.as_deref() == Some(dk))
            .and_then(|p| p.device_status)
    };
    assert_eq!(status_of(&devices[0]), Some(device_status::UPGRADING));
    assert_eq!(status_of(&devices[2]), Some(device_status::FAILED));
}

#[tokio::test]
async fn bluetooth_fetch_confirm_download_verified_and_report() {
    let p = first_plan_of("ble").await;
    let (sim, client, pk, dk, plan_id) = (&p.sim, &p.client, &p.pk, &p.dk, p.plan_id);

    let ble = client
        .fetch_plan(pk, dk)
        .await
        .unwrap()
        .expect("a BLE plan");
    assert_eq!(ble.plan_id, Some(plan_id));
    assert_eq!(ble.target_version.as_deref(), Some(TARGET));
    assert_eq!(ble.file_sign.as_deref().map(str::len), Some(64));
    let component = ble.component_no.clone().unwrap();

    client
        .report_status(pk, dk, &component, BleReportStatus::Confirmed)
        .await
        .unwrap();
    assert_eq!(
        plan(client, pk, dk).await.user_confirm_status,
        Some(confirm_status::UPGRADE_NOW)
    );

    // A package whose hash does not match is not kept.
    let dir = tempfile::tempdir().unwrap();
    let mut tampered = ble.clone();
    tampered.file_sign = Some("0".repeat(64));
    let err = client
        .download_package(&tampered, dir.path())
        .await
        .unwrap_err();
    assert!(err.message.contains("SHA-256"), "{}", err.message);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    client
        .report_status(pk, dk, &component, BleReportStatus::Downloading)
        .await
        .unwrap();
    let package = client.download_package(&ble, dir.path()).await.unwrap();
    assert_eq!(Some(package.sha256.as_str()), ble.file_sign.as_deref());
    assert_eq!(
        std::fs::metadata(&package.path).unwrap().len(),
        ble.file_size.unwrap() as u64
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    for step in [
        BleReportStatus::Downloaded,
        BleReportStatus::Installing,
        BleReportStatus::Succeeded,
    ] {
        client
            .report_status(pk, dk, &component, step)
            .await
            .unwrap();
    }
    let done = plan(client, pk, dk).await;
    assert_eq!(done.device_status, Some(device_status::SUCCEEDED));
    assert_eq!(firmware(sim, dk).await, TARGET);
    // Nothing left to fetch.
    assert!(client.fetch_plan(pk, dk).await.unwrap().is_none());
}
