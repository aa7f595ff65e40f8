//! The clients against the simulator (written independently from the same docs), on loopback.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    account_of, assert_low_battery_explained, attached, connector, fast_retry, fault, fleet,
    fleet_of, job_end, logged, patch_device, updatable_camera, MemorySecrets,
};
use ota_clouds::http::UNREADABLE_ANSWER;
use ota_clouds::quectel::QuectelClient;
use ota_clouds::{sandbox_accounts, SandboxAccount};
use ota_core::cloud::{CloudSession, Connector, Credentials, SessionCache};
use ota_core::{Account, ApiError, Cloud, Console, Device, DeviceQuery, ErrorKind, Secret, Store};
use ota_sim::SimHandle;
use serde_json::{json, Value};

async fn start_sim(devices: usize) -> SimHandle {
    common::sim(devices, 7, 1000.0).await
}

fn account_for(sim: &SimHandle, sandbox: &SandboxAccount) -> Account {
    Account {
        id: 1,
        name: sandbox.name.clone(),
        cloud: sandbox.cloud,
        base_url: sim.url(),
        region: None,
        username: sandbox.credentials.username.clone(),
        sandbox: true,
        created_at: 0,
        allow_http: false,
    }
}

async fn sandbox(sim: &SimHandle, cloud: Cloud) -> Vec<SandboxAccount> {
    sandbox_accounts(&sim.url())
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.cloud == cloud)
        .collect()
}

async fn session(sim: &SimHandle, cloud: Cloud) -> Arc<dyn CloudSession> {
    let account = sandbox(sim, cloud).await.remove(0);
    connector()
        .connect(
            &account_for(sim, &account),
            account.credentials,
            SessionCache::in_memory(),
        )
        .unwrap()
}

/// Lists `cloud`'s devices through its sandbox session: each listed device beside the simulator's own
/// record of it. The listing has as many devices as the simulator.
async fn listed_beside_records(sim: &SimHandle, cloud: Cloud) -> Vec<(Device, Value)> {
    let devices = session(sim, cloud).await.list_devices().await.unwrap();
    let records = fleet_of(sim, cloud.as_str()).await;
    assert_eq!(devices.len(), records.len(), "{cloud}");
    let by_id: HashMap<&str, &Value> = records
        .iter()
        .map(|d| (d["id"].as_str().unwrap(), d))
        .collect();
    let paired: Vec<Value> = devices
        .iter()
        .map(|d| by_id[d.id.as_str()].clone())
        .collect();
    devices.into_iter().zip(paired).collect()
}

/// A Console on `dir` with the app's connector (quick retries) and secrets in memory.
fn console_on(dir: &std::path::Path) -> Console {
    Console::new(
        Store::open_in(dir).unwrap(),
        Arc::new(MemorySecrets::default()),
        Arc::new(connector()),
    )
}

/// A simulator of 40 devices whose Vicohome account has signed in and listed the cameras once; then
/// `armed` (a fault) is armed. The simulator and the signed-in session.
async fn listed_then_faulted(armed: Value) -> (SimHandle, Arc<dyn CloudSession>) {
    let sim = start_sim(40).await;
    let session = session(&sim, Cloud::Vicohome).await;
    session.list_devices().await.unwrap();
    fault(&sim, armed).await;
    (sim, session)
}

#[tokio::test]
async fn sandbox_accounts_cover_every_cloud() {
    let sim = start_sim(60).await;
    let accounts = sandbox_accounts(&sim.url()).await.unwrap();
    let names: Vec<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    assert!(names.contains(&"Sandbox Vicohome"), "{names:?}");
    assert!(names.contains(&"Sandbox Quectel"), "{names:?}");
    let onenet: Vec<&SandboxAccount> = accounts
        .iter()
        .filter(|a| a.cloud == Cloud::Onenet)
        .collect();
    assert!(!onenet.is_empty());
    for a in onenet {
        let pid = a.credentials.username.as_deref().unwrap();
        assert_eq!(a.name, format!("Sandbox OneNET {pid}"));
    }
    assert!(
        !format!("{accounts:?}").contains("vico-"),
        "secrets stay redacted in Debug"
    );
}

#[tokio::test]
async fn vicohome_signs_in_and_lists_the_fleet_cameras() {
    let sim = start_sim(80).await;
    for (d, sim_device) in listed_beside_records(&sim, Cloud::Vicohome).await {
        assert_eq!(d.cloud, Cloud::Vicohome);
        assert_eq!(d.name, sim_device["name"]);
        assert_eq!(d.model, sim_device["model"]);
        assert_eq!(d.firmware, sim_device["firmware"]);
        assert_eq!(
            d.newest_firmware.as_deref(),
            sim_device["newest_firmware"].as_str()
        );
        assert_eq!(d.online, sim_device["online"]);
        assert_eq!(d.battery.map(u64::from), sim_device["battery"].as_u64());
        assert_eq!(d.signal.map(i64::from), sim_device["signal"].as_i64());
    }
    assert_eq!(logged(&sim, "/account/login").await, ["ok"]);
}

#[tokio::test]
async fn vicohome_update_runs_to_complete_and_changes_the_firmware() {
    let sim = start_sim(40).await;
    let camera = updatable_camera(&sim).await;
    let serial = camera["id"].as_str().unwrap();
    let session = session(&sim, Cloud::Vicohome).await;
    let ota = session.vicohome().unwrap();

    let started = ota.start_ota(serial).await.unwrap();
    assert!(started.in_progress);
    assert!(started.total > 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = started;
    while last.ota_status != 3 {
        assert!(
            Instant::now() < deadline,
            "the update did not finish: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
        let status = ota.ota_status(serial).await.unwrap();
        assert!(status.error.is_none(), "{status:?}");
        assert!(status.ota_status >= last.ota_status, "states never go back");
        if status.ota_status == last.ota_status {
            assert!(
                status.transferred >= last.transferred,
                "bytes never go back"
            );
        }
        last = status;
    }
    assert!(!last.in_progress);
    assert_eq!(last.transferred, last.total);
    let newest = camera["newest_firmware"].as_str().unwrap();
    if let Some(target) = &last.target_firmware {
        assert_eq!(target, newest);
    }
    assert_eq!(
        ota.current_firmware(serial).await.unwrap().as_deref(),
        Some(newest)
    );
    let listed = session.list_devices().await.unwrap();
    assert_eq!(
        listed.iter().find(|d| d.id == serial).unwrap().firmware,
        newest
    );
}

#[tokio::test]
async fn low_battery_start_tells_the_technician_to_charge() {
    let sim = start_sim(40).await;
    let camera = updatable_camera(&sim).await;
    let serial = camera["id"].as_str().unwrap();
    patch_device(&sim, serial, json!({"battery": 5, "is_charging": false})).await;
    let session = session(&sim, Cloud::Vicohome).await;
    let err = session
        .vicohome()
        .unwrap()
        .start_ota(serial)
        .await
        .unwrap_err();
    assert_low_battery_explained(&err);
}

#[tokio::test]
async fn failed_install_is_reported_as_a_status_with_its_phase() {
    let sim = start_sim(40).await;
    let camera = updatable_camera(&sim).await;
    let serial = camera["id"].as_str().unwrap();
    fault(&sim, json!({"kind": "install_fail", "target": serial})).await;
    let session = session(&sim, Cloud::Vicohome).await;
    let ota = session.vicohome().unwrap();
    ota.start_ota(serial).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let failed = loop {
        assert!(Instant::now() < deadline, "no failure reported");
        tokio::time::sleep(Duration::from_millis(25)).await;
        let status = ota.ota_status(serial).await.unwrap();
        if status.error.is_some() {
            break status;
        }
        assert_ne!(status.ota_status, 3, "the install should have failed");
    };
    assert_eq!(failed.ota_status, 5);
    let err = failed.error.unwrap();
    assert_eq!(
        (err.code, err.vendor_code.as_deref()),
        (ErrorKind::Device, Some("-10402"))
    );
}

#[tokio::test]
async fn an_expired_session_is_renewed_without_the_user_noticing() {
    let sim = start_sim(40).await;
    let session = session(&sim, Cloud::Vicohome).await;
    let before = session.list_devices().await.unwrap();
    fault(&sim, json!({"kind": "token_expired", "target": "*"})).await;
    let after = session.list_devices().await.unwrap();
    assert_eq!(before.len(), after.len());
    assert_eq!(
        logged(&sim, "/account/login").await,
        ["ok", "ok"],
        "exactly one more sign-in"
    );
    assert_eq!(
        logged(&sim, "/device/listuserdevices").await,
        ["ok", "error:-1027", "ok"]
    );
}

#[tokio::test]
async fn rate_limit_then_success_through_the_retry_helper() {
    let (sim, session) =
        listed_then_faulted(json!({"kind": "http_429", "target": "*", "count": 1})).await;
    let started = Instant::now();
    let devices = session.list_devices().await.unwrap();
    assert!(!devices.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 honoured"
    );
    assert_eq!(
        logged(&sim, "/device/listuserdevices").await,
        ["ok", "http_429", "ok"]
    );
}

#[tokio::test]
async fn persistent_server_errors_end_as_retryable() {
    let (sim, session) = listed_then_faulted(json!({"kind": "http_5xx", "target": "*"})).await;
    let err = session.list_devices().await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Retryable);
    assert_eq!(
        logged(&sim, "/device/listuserdevices").await.len(),
        1 + 3,
        "three attempts"
    );
}

#[tokio::test]
async fn malformed_and_truncated_bodies_are_retryable_errors() {
    for kind in ["malformed_body", "truncated_body"] {
        let (_sim, session) = listed_then_faulted(json!({"kind": kind, "target": "*"})).await;
        let err: ApiError = session.list_devices().await.unwrap_err();
        assert_eq!(err.code, ErrorKind::Retryable, "{kind}");
        assert_eq!(err.message, UNREADABLE_ANSWER, "{kind}");
        assert!(err.hint.is_some());
    }
}

#[tokio::test]
async fn quectel_reads_every_page_of_the_fleet() {
    let sim = start_sim(500).await;
    let expected = fleet_of(&sim, "quectel").await;
    assert!(
        expected.len() > 100,
        "the fleet spans several pages ({})",
        expected.len()
    );
    let listed = listed_beside_records(&sim, Cloud::Quectel).await;
    let ids: HashSet<&str> = listed.iter().map(|(d, _)| d.id.as_str()).collect();
    assert_eq!(ids.len(), listed.len(), "no device twice");
    for (d, s) in &listed {
        assert_eq!(d.product_key.as_deref(), s["product_key"].as_str());
        assert_eq!(d.transport.as_deref(), s["transport"].as_str());
        assert_eq!(
            (d.name.as_str(), d.model.as_str()),
            (s["name"].as_str().unwrap(), s["model"].as_str().unwrap())
        );
        assert_eq!(d.firmware, s["firmware"]);
        assert_eq!(d.online, s["online"]);
    }
    let pages = logged(&sim, "/v2/binding/enduserapi/userDeviceList").await;
    assert_eq!(pages.len(), expected.len().div_ceil(100));
}

#[tokio::test]
async fn quectel_small_pages_add_up_to_the_same_fleet() {
    let sim = start_sim(120).await;
    let expected = fleet_of(&sim, "quectel").await.len();
    let account = sandbox(&sim, Cloud::Quectel).await.remove(0);
    let client = QuectelClient::new(
        ota_clouds::http::build_client(&Default::default()).unwrap(),
        ota_clouds::http::BaseUrl::parse(&sim.url()).unwrap(),
        account.credentials,
        SessionCache::in_memory(),
        fast_retry(),
    )
    .unwrap()
    .with_page_size(7);
    assert_eq!(client.list_devices().await.unwrap().len(), expected);
}

#[tokio::test]
async fn onenet_lists_with_a_good_key_and_refuses_a_tampered_one() {
    let sim = start_sim(120).await;
    let fleet = fleet_of(&sim, "onenet").await;
    for product in sandbox(&sim, Cloud::Onenet).await {
        let pid = product.credentials.username.clone().unwrap();
        let account = account_for(&sim, &product);
        let good = connector()
            .connect(
                &account,
                product.credentials.clone(),
                SessionCache::in_memory(),
            )
            .unwrap();
        let devices = good.list_devices().await.unwrap();
        let expected = fleet
            .iter()
            .filter(|d| d["product_key"] == pid.as_str())
            .count();
        assert_eq!(devices.len(), expected, "product {pid}");
        assert!(devices
            .iter()
            .all(|d| d.product_key.as_deref() == Some(pid.as_str())));

        // Still valid base64, but not the product's key.
        let key = product.credentials.secret.expose();
        let first = if key.starts_with('A') { "B" } else { "A" };
        let tampered = Credentials {
            username: Some(pid.clone()),
            secret: Secret::new(format!("{first}{}", &key[1..])),
        };
        let bad = connector()
            .connect(&account, tampered, SessionCache::in_memory())
            .unwrap();
        let err = bad.list_devices().await.unwrap_err();
        assert_eq!(err.code, ErrorKind::Auth, "product {pid}");
        assert_eq!(err.message, "OneNET rejected the access key or token");
    }
}

#[tokio::test]
async fn attached_sandbox_fills_the_engine_with_the_whole_fleet() {
    let sim = start_sim(150).await;
    let dir = tempfile::tempdir().unwrap();
    let console = console_on(dir.path());
    let attached = ota_clouds::sandbox::attach(&console, &sim.url())
        .await
        .unwrap();
    assert!(attached.len() >= 3);
    assert!(attached
        .iter()
        .all(|a| a.sandbox && a.base_url == sim.url()));
    let freshness = console.refresh_fleet().await.unwrap();
    assert!(freshness.live, "{freshness:?}");
    let page = console.devices(&DeviceQuery::default()).unwrap();
    assert_eq!(page.total as usize, fleet(&sim).await.len());

    // Attaching again (an app restart) keeps the same accounts.
    let again = ota_clouds::sandbox::attach(&console, &format!("{}/", sim.url()))
        .await
        .unwrap();
    let ids = |v: &[Account]| v.iter().map(|a| a.id).collect::<HashSet<_>>();
    assert_eq!(ids(&again), ids(&attached));
}

#[tokio::test]
async fn sandbox_accounts_another_simulator_no_longer_offers_are_removed() {
    let first = start_sim(60).await;
    let second = common::sim(60, 99, 1.0).await;
    let dir = tempfile::tempdir().unwrap();
    let console = console_on(dir.path());
    ota_clouds::sandbox::attach(&console, &first.url())
        .await
        .unwrap();
    console.refresh_fleet().await.unwrap();
    let now = ota_clouds::sandbox::attach(&console, &second.url())
        .await
        .unwrap();
    let names = |v: Vec<Account>| v.into_iter().map(|a| a.name).collect::<HashSet<_>>();
    assert_eq!(names(console.accounts().unwrap()), names(now));
    assert!(
        console.refresh_fleet().await.unwrap().live,
        "no stale account keeps the fleet cached"
    );
}

#[tokio::test]
async fn an_engine_job_runs_to_success_over_this_client() {
    let sim = start_sim(40).await;
    let camera = updatable_camera(&sim).await;
    let serial = camera["id"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let console = Arc::new(
        console_on(dir.path()).with_job_options(ota_core::jobs::JobOptions::scaled(1000.0)),
    );
    let (console, accounts) = attached(&sim, console).await;
    let vicohome = account_of(&accounts, Cloud::Vicohome);
    let mut updates = console.subscribe_jobs();
    let job = ota_core::jobs::start_vicohome_update(console.clone(), vicohome.id, &serial)
        .await
        .unwrap();
    let finished = job_end(&mut updates, job.id, Duration::from_secs(60)).await;
    assert_eq!(
        finished.state,
        ota_core::store::JobState::Succeeded,
        "{finished:?}"
    );
    assert_eq!(finished.percent, 100);
    assert_eq!(
        logged(&sim, "/device/otastart/").await,
        ["ok"],
        "started exactly once"
    );
}

#[tokio::test]
async fn an_unreachable_simulator_is_offline() {
    let sim = start_sim(10).await;
    let url = sim.url();
    sim.shutdown().await;
    let err = sandbox_accounts(&url).await.unwrap_err();
    assert_eq!(err.code, ErrorKind::Offline);
    assert!(
        err.message.starts_with("Cannot reach 127.0.0.1:"),
        "{}",
        err.message
    );
}
