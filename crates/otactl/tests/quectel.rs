//! `otactl quectel ...` against the simulator: plans, decisions, auto-upgrade and the Bluetooth flow.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const TARGET: &str = "9.9.9";

/// deviceKeys of one Quectel product with at least `n` devices of this transport, and its productKey.
async fn product_with(sim_url: &str, transport: &str, n: usize) -> (String, Vec<String>) {
    let mut by_product: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for d in fleet_of(sim_url, "quectel").await {
        if d["transport"] == transport {
            by_product
                .entry(d["product_key"].as_str().unwrap().to_string())
                .or_default()
                .push(d["id"].as_str().unwrap().to_string());
        }
    }
    by_product
        .into_iter()
        .find(|(_, d)| d.len() >= n)
        .expect("a product with enough devices")
}

/// Creates a plan; (planId, the simulator's wall clock in ms).
async fn create_plan(sim_url: &str, pk: &str, devices: &[String]) -> (i64, i64) {
    let made: Value = reqwest::Client::new()
        .post(format!("{sim_url}/_sim/quectel/plans"))
        .json(&json!({"targetVersion": TARGET, "productKey": pk, "deviceKeys": devices}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        made["planId"].as_i64().unwrap(),
        made["nowMs"].as_i64().unwrap(),
    )
}

/// A simulator (60 devices, 100x) and a data folder: where a test's `otactl quectel` commands run.
struct Bench {
    _sim: ota_sim::SimHandle,
    url: String,
    data: tempfile::TempDir,
}

async fn bench() -> Bench {
    let sim = sim_at(60, 5, 100.0).await;
    let url = sim.url();
    let data = tempfile::tempdir().unwrap();
    Bench {
        _sim: sim,
        url,
        data,
    }
}

impl Bench {
    /// `otactl --sim-url URL quectel ARGS` on the bench's data folder.
    fn run(&self, args: &[&str]) -> Output {
        otactl_cloud(self.data.path(), &self.url, "quectel", args)
    }

    /// The stdout of `quectel ARGS`, which must succeed.
    fn ok(&self, args: &[&str]) -> String {
        succeeded(&self.run(args))
    }

    /// `n` devices of one product of `transport` and a plan for them: (the devices, the planId, the
    /// simulator's wall clock in ms when it was made).
    async fn planned(&self, transport: &str, n: usize) -> (Vec<String>, i64, i64) {
        let (pk, devices) = product_with(&self.url, transport, n).await;
        let (plan_id, now) = create_plan(&self.url, &pk, &devices[..n]).await;
        (devices, plan_id, now)
    }

    /// The device's plan, as `quectel plans --device DK --json` lists it.
    fn plan_of(&self, dk: &str) -> Value {
        let plans: Value =
            serde_json::from_str(&self.ok(&["plans", "--device", dk, "--json"])).unwrap();
        plans[0].clone()
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339()
}

#[tokio::test(flavor = "multi_thread")]
async fn confirm_then_the_plan_succeeds_and_bad_appointments_are_refused() {
    let q = bench().await;
    let (devices, plan_id, now) = q.planned("mqtt", 1).await;
    let dk = devices[0].as_str();
    let plan = plan_id.to_string();

    let waiting = q.plan_of(dk);
    assert_eq!(waiting["planId"], plan_id);
    assert_eq!(waiting["deviceStatus"], 0);

    // 59 minutes: refused before anything is sent, saying which rule.
    let short = q.run(&[
        "appoint",
        "--device",
        dk,
        "--plan",
        &plan,
        "--start",
        &rfc3339(now + 3_600_000),
        "--end",
        &rfc3339(now + 3_600_000 + 59 * 60_000),
    ]);
    assert_refused(&short, "at least 1 hour");
    let bad_time = q.run(&[
        "appoint", "--device", dk, "--plan", &plan, "--start", "tomorrow", "--end", "later",
    ]);
    assert!(
        stderr(&bad_time).contains("RFC 3339"),
        "{}",
        stderr(&bad_time)
    );

    let confirmed = q.run(&["confirm", "--device", dk, "--plan", &plan]);
    assert!(succeeded(&confirmed).contains(&format!("{dk}  ok")));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let p = q.plan_of(dk);
        if p["deviceStatus"] == 2 {
            assert_eq!(p["upgradeProgress"], 1.0);
            break;
        }
        assert!(Instant::now() < deadline, "never succeeded: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = q.ok(&["plans", "--device", dk]);
    assert!(text.contains("succeeded 100%"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_reports_each_device_and_fails_when_one_fails() {
    let q = bench().await;
    let (devices, plan_id, _) = q.planned("mqtt", 2).await;
    let plan = plan_id.to_string();
    q.ok(&["cancel", "--device", &devices[1], "--plan", &plan]);
    let out = q.run(&[
        "confirm",
        "--device",
        &devices[0],
        "--device",
        &devices[1],
        "--plan",
        &plan,
        "--json",
    ]);
    assert!(!out.status.success());
    let outcome: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(outcome["successList"][0]["deviceKey"], devices[0].as_str());
    assert_eq!(outcome["failList"][0]["deviceKey"], devices[1].as_str());
    assert_eq!(outcome["failList"][0]["code"], 409);

    let details = q.ok(&[
        "details",
        "--plan",
        &plan,
        "--device",
        &devices[0],
        "--device",
        &devices[1],
        "--json",
    ]);
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details.as_array().unwrap().len(), 2);
    assert_eq!(details[1]["deviceStatus"], 3);
    assert_eq!(details[1]["userConfirmStatus"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_upgrade_switch_round_trips() {
    let q = bench().await;
    let (_, devices) = product_with(&q.url, "mqtt", 1).await;
    let dk = devices[0].as_str();
    let get = || {
        let out = q.ok(&["auto-upgrade", "get", "--device", dk, "--json"]);
        serde_json::from_str::<Value>(&out).unwrap()["autoUpgrade"].clone()
    };
    assert_eq!(get(), false);
    q.ok(&["auto-upgrade", "on", "--device", dk]);
    assert_eq!(get(), true);
    q.ok(&["auto-upgrade", "off", "--device", dk]);
    assert_eq!(get(), false);
    q.ok(&["auto-upgrade", "on", "--device", dk]);
    q.ok(&["auto-upgrade", "delete", "--device", dk]);
    assert_eq!(get(), false);
}

#[tokio::test(flavor = "multi_thread")]
async fn bluetooth_fetch_report_download_and_result() {
    let q = bench().await;
    let (devices, plan_id, _) = q.planned("ble", 1).await;
    let dk = devices[0].as_str();
    let downloads = tempfile::tempdir().unwrap();

    let fetched = q.ok(&["ble", "fetch", "--device", dk, "--json"]);
    let fetched: Value = serde_json::from_str(&fetched).unwrap();
    assert_eq!(fetched["planId"], plan_id);
    let sign = fetched["fileSign"].as_str().unwrap().to_string();

    q.ok(&["ble", "report", "--device", dk, "--status", "confirmed"]);
    let dir = downloads.path().to_str().unwrap();
    let got = q.ok(&["ble", "download", "--device", dk, "--dir", dir, "--json"]);
    let got: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(got["sha256"], sign.as_str());
    assert!(Path::new(got["path"].as_str().unwrap()).is_file());

    let unknown = q.run(&["ble", "report", "--device", dk, "--status", "exploded"]);
    assert!(
        stderr(&unknown).contains("failed-checksum"),
        "{}",
        stderr(&unknown)
    );
    for status in ["downloaded", "installing", "succeeded"] {
        q.ok(&["ble", "report", "--device", dk, "--status", status]);
    }
    let done = q.plan_of(dk);
    assert_eq!(done["deviceStatus"], 2);
    let device = get_json(&format!("{}/_sim/devices/{dk}", q.url)).await;
    assert_eq!(device["firmware"], TARGET);
}

/// A newcomer's first command on a new data folder: the sandbox starts with plans in several states, and
/// `plans` fetches the fleet itself instead of answering `[]` from an empty cache.
#[test]
fn a_new_data_folder_lists_the_sandbox_plans_without_any_other_command_first() {
    let data = tempfile::tempdir().unwrap();
    let out = otactl(
        data.path(),
        &["--sandbox", "quectel", "plans", "--json"],
        None,
    );
    let text = succeeded(&out);
    let plans: Vec<Value> = serde_json::from_str(&text).expect("a JSON list of plans");
    assert!(plans.len() >= 3, "at least three plans: {text}");
    let states: std::collections::BTreeSet<String> = plans
        .iter()
        .map(|p| format!("{}/{}", p["deviceStatus"], p["userConfirmStatus"]))
        .collect();
    assert!(
        states.len() >= 2,
        "plans in at least two states (deviceStatus/userConfirmStatus): {states:?}"
    );
}
