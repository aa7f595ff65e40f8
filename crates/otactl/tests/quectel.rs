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
    let fleet = get_json(&format!("{sim_url}/_sim/devices")).await;
    let mut by_product: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for d in fleet.as_array().unwrap() {
        if d["cloud"] == "quectel" && d["transport"] == transport {
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

fn run(data: &Path, sim_url: &str, args: &[&str]) -> Output {
    let mut all = vec!["--sim-url", sim_url, "quectel"];
    all.extend_from_slice(args);
    otactl(data, &all, None)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

fn plan_of(data: &Path, sim_url: &str, dk: &str) -> Value {
    let out = run(data, sim_url, &["plans", "--device", dk, "--json"]);
    let plans: Value = serde_json::from_str(&ok(&out)).unwrap();
    plans[0].clone()
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339()
}

#[tokio::test(flavor = "multi_thread")]
async fn confirm_then_the_plan_succeeds_and_bad_appointments_are_refused() {
    let sim = sim_at(60, 5, 100.0).await;
    let url = sim.url();
    let (pk, devices) = product_with(&url, "mqtt", 1).await;
    let dk = devices[0].as_str();
    let (plan_id, now) = create_plan(&url, &pk, &devices[..1]).await;
    let plan = plan_id.to_string();
    let data = tempfile::tempdir().unwrap();

    let waiting = plan_of(data.path(), &url, dk);
    assert_eq!(waiting["planId"], plan_id);
    assert_eq!(waiting["deviceStatus"], 0);

    // 59 minutes: refused before anything is sent, saying which rule.
    let short = run(
        data.path(),
        &url,
        &[
            "appoint",
            "--device",
            dk,
            "--plan",
            &plan,
            "--start",
            &rfc3339(now + 3_600_000),
            "--end",
            &rfc3339(now + 3_600_000 + 59 * 60_000),
        ],
    );
    assert!(!short.status.success());
    assert!(
        stderr(&short).contains("at least 1 hour"),
        "{}",
        stderr(&short)
    );
    let bad_time = run(
        data.path(),
        &url,
        &[
            "appoint", "--device", dk, "--plan", &plan, "--start", "tomorrow", "--end", "later",
        ],
    );
    assert!(
        stderr(&bad_time).contains("RFC 3339"),
        "{}",
        stderr(&bad_time)
    );

    let confirmed = run(
        data.path(),
        &url,
        &["confirm", "--device", dk, "--plan", &plan],
    );
    assert!(ok(&confirmed).contains(&format!("{dk}  ok")));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let p = plan_of(data.path(), &url, dk);
        if p["deviceStatus"] == 2 {
            assert_eq!(p["upgradeProgress"], 1.0);
            break;
        }
        assert!(Instant::now() < deadline, "never succeeded: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = ok(&run(data.path(), &url, &["plans", "--device", dk]));
    assert!(text.contains("succeeded 100%"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_reports_each_device_and_fails_when_one_fails() {
    let sim = sim_at(60, 5, 100.0).await;
    let url = sim.url();
    let (pk, devices) = product_with(&url, "mqtt", 2).await;
    let (plan_id, _) = create_plan(&url, &pk, &devices[..2]).await;
    let plan = plan_id.to_string();
    let data = tempfile::tempdir().unwrap();
    ok(&run(
        data.path(),
        &url,
        &["cancel", "--device", &devices[1], "--plan", &plan],
    ));
    let out = run(
        data.path(),
        &url,
        &[
            "confirm",
            "--device",
            &devices[0],
            "--device",
            &devices[1],
            "--plan",
            &plan,
            "--json",
        ],
    );
    assert!(!out.status.success());
    let outcome: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(outcome["successList"][0]["deviceKey"], devices[0].as_str());
    assert_eq!(outcome["failList"][0]["deviceKey"], devices[1].as_str());
    assert_eq!(outcome["failList"][0]["code"], 409);

    let details = ok(&run(
        data.path(),
        &url,
        &[
            "details",
            "--plan",
            &plan,
            "--device",
            &devices[0],
            "--device",
            &devices[1],
            "--json",
        ],
    ));
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details.as_array().unwrap().len(), 2);
    assert_eq!(details[1]["deviceStatus"], 3);
    assert_eq!(details[1]["userConfirmStatus"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_upgrade_switch_round_trips() {
    let sim = sim_at(60, 5, 100.0).await;
    let url = sim.url();
    let (_, devices) = product_with(&url, "mqtt", 1).await;
    let dk = devices[0].as_str();
    let data = tempfile::tempdir().unwrap();
    let get = |data: &Path| {
        let out = ok(&run(
            data,
            &url,
            &["auto-upgrade", "get", "--device", dk, "--json"],
        ));
        serde_json::from_str::<Value>(&out).unwrap()["autoUpgrade"].clone()
    };
    assert_eq!(get(data.path()), false);
    ok(&run(
        data.path(),
        &url,
        &["auto-upgrade", "on", "--device", dk],
    ));
    assert_eq!(get(data.path()), true);
    ok(&run(
        data.path(),
        &url,
        &["auto-upgrade", "off", "--device", dk],
    ));
    assert_eq!(get(data.path()), false);
    ok(&run(
        data.path(),
        &url,
        &["auto-upgrade", "on", "--device", dk],
    ));
    ok(&run(
        data.path(),
        &url,
        &["auto-upgrade", "delete", "--device", dk],
    ));
    assert_eq!(get(data.path()), false);
}

#[tokio::test(flavor = "multi_thread")]
async fn bluetooth_fetch_report_download_and_result() {
    let sim = sim_at(60, 5, 100.0).await;
    let url = sim.url();
    let (pk, devices) = product_with(&url, "ble", 1).await;
    let dk = devices[0].as_str();
    let (plan_id, _) = create_plan(&url, &pk, &devices[..1]).await;
    let data = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();

    let fetched = ok(&run(
        data.path(),
        &url,
        &["ble", "fetch", "--device", dk, "--json"],
    ));
    let fetched: Value = serde_json::from_str(&fetched).unwrap();
    assert_eq!(fetched["planId"], plan_id);
    let sign = fetched["fileSign"].as_str().unwrap().to_string();

    ok(&run(
        data.path(),
        &url,
        &["ble", "report", "--device", dk, "--status", "confirmed"],
    ));
    let dir = downloads.path().to_str().unwrap();
    let got = ok(&run(
        data.path(),
        &url,
        &["ble", "download", "--device", dk, "--dir", dir, "--json"],
    ));
    let got: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(got["sha256"], sign.as_str());
    assert!(Path::new(got["path"].as_str().unwrap()).is_file());

    let unknown = run(
        data.path(),
        &url,
        &["ble", "report", "--device", dk, "--status", "exploded"],
    );
    assert!(
        stderr(&unknown).contains("failed-checksum"),
        "{}",
        stderr(&unknown)
    );
    for status in ["downloaded", "installing", "succeeded"] {
        ok(&run(
            data.path(),
            &url,
            &["ble", "report", "--device", dk, "--status", status],
        ));
    }
    let done = plan_of(data.path(), &url, dk);
    assert_eq!(done["deviceStatus"], 2);
    let device = get_json(&format!("{url}/_sim/devices/{dk}")).await;
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
    let text = ok(&out);
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
