//! `otactl onenet ...` against the simulator: token, check, fetch (resumable, MD5-verified, 101 — or
//! 107 on a mismatch — reported) and report, as a technician runs them.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;
use serde_json::{json, Value};

const TARGET: &str = "V7.2";
const MIB: u64 = 1024 * 1024;

fn run(data: &Path, sim_url: &str, args: &[&str]) -> Output {
    otactl_cloud(data, sim_url, "onenet", args)
}

/// `otactl onenet report` of `result` for the device's task with download token `token`.
fn report(data: &Path, sim_url: &str, dev_id: &str, token: &str, result: &str) -> Output {
    let args = [
        "report", "--dev-id", dev_id, "--token", token, "--result", result,
    ];
    run(data, sim_url, &args)
}

/// `otactl onenet fetch` of the device's task to `out`.
fn fetch(data: &Path, sim_url: &str, dev_id: &str, out: &str) -> Output {
    run(data, sim_url, &["fetch", "--dev-id", dev_id, "--out", out])
}

/// `otactl onenet token` for product 245528 with `access_key` (`-`: read from stdin), fixed expiry.
fn token_args(access_key: &str) -> [&str; 10] {
    [
        "onenet",
        "token",
        "--product-id",
        "245528",
        "--access-key",
        access_key,
        "--et",
        "7559008892",
        "--method",
        "sha1",
    ]
}

/// A OneNET device of the simulated fleet: (dev_id, manuf, model, firmware).
async fn onenet_device(sim_url: &str) -> (String, String, String, String) {
    let d = fleet_of(sim_url, "onenet").await.remove(0);
    let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    (s("id"), s("manufacturer"), s("model"), s("firmware"))
}

async fn create_task(sim_url: &str, dev_id: &str, size: u64) -> Value {
    reqwest::Client::new()
        .post(format!("{sim_url}/_sim/onenet/tasks"))
        .json(&json!({"dev_id": dev_id, "target": TARGET, "size": size, "type": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_fetch_and_report_against_the_simulator() {
    let sim = sim(40, 3).await;
    let url = sim.url();
    let data = tempfile::tempdir().unwrap();
    let (dev_id, manuf, model, version) = onenet_device(&url).await;
    let task = create_task(&url, &dev_id, 5 * MIB + 3).await;

    let check = run(
        data.path(),
        &url,
        &[
            "check",
            "--dev-id",
            &dev_id,
            "--manuf",
            &manuf,
            "--model",
            &model,
            "--version",
            &version,
            "--json",
        ],
    );
    let found: Value = serde_json::from_str(&succeeded(&check)).unwrap();
    assert_eq!(found["targetVersion"], TARGET);
    assert_eq!(found["md5"], task["md5"]);
    assert_eq!(found["size"], 5 * MIB + 3);
    let token = found["token"].as_str().unwrap().to_string();

    let human = succeeded(&run(data.path(), &url, &["check", "--dev-id", &dev_id]));
    assert!(human.contains(&format!("version {TARGET}")), "{human}");
    assert!(human.contains("battery ≥"), "{human}");

    // An upgrade result before the download's is out of OneNET's order, and the answer says so.
    let early = report(data.path(), &url, &dev_id, &token, "201");
    assert_refused(&early, "only after the download was reported (101)");

    let out = data.path().join("pkg").join("fw.bin");
    let out_text = out.display().to_string();
    let fetch_json = ["fetch", "--dev-id", &dev_id, "--out", &out_text, "--json"];
    let fetched = run(data.path(), &url, &fetch_json);
    let outcome: Value = serde_json::from_str(&succeeded(&fetched)).unwrap();
    assert_eq!(outcome["md5"], task["md5"]);
    assert_eq!(outcome["report"]["accepted"], true);
    assert_eq!(std::fs::metadata(&out).unwrap().len(), 5 * MIB + 3);

    let reported = succeeded(&report(data.path(), &url, &dev_id, &token, "201"));
    assert_eq!(reported.trim(), "OneNET recorded 201: Upgrade succeeded.");
    let state = get_json(&format!("{url}/_sim/onenet/tasks/{}", task["task_id"])).await;
    assert_eq!(state["state"], "succeeded");

    let again = report(data.path(), &url, &dev_id, &token, "201");
    assert_refused(&again, "The update task has already finished");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_fetch_resumes_and_a_corrupt_one_reports_107() {
    let sim = sim(40, 3).await;
    let url = sim.url();
    let data = tempfile::tempdir().unwrap();
    let (dev_id, ..) = onenet_device(&url).await;
    create_task(&url, &dev_id, 20 * MIB).await;
    // The cut uses up the fetch's retries so the command stops, as if the network were gone.
    fault(
        &url,
        json!({"kind": "download_cut", "target": dev_id, "count": 5}),
    )
    .await;
    let out = data.path().join("fw.bin");
    let out_text = out.display().to_string();
    let first = fetch(data.path(), &url, &dev_id, &out_text);
    assert!(
        !first.status.success(),
        "the cut fetch fails: {}",
        stdout(&first)
    );
    assert!(stderr(&first).contains("stopped at"), "{}", stderr(&first));
    assert!(!out.exists());
    clear_faults(&url).await;
    let second = succeeded(&fetch(data.path(), &url, &dev_id, &out_text));
    assert!(second.contains("resumed at"), "{second}");
    assert!(second.contains("OneNET recorded 101"), "{second}");

    // A corrupted package on another device: 107 (download failed) reported, nothing left that looks
    // valid, and the task failed with that code.
    let other = fleet_of(&url, "onenet")
        .await
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .find(|id| id != &dev_id)
        .expect("a second OneNET device");
    let task = create_task(&url, &other, MIB).await;
    fault(&url, json!({"kind": "corrupt_package", "target": other})).await;
    let bad_out = data.path().join("bad.bin");
    let bad_text = bad_out.display().to_string();
    let bad = fetch(data.path(), &url, &other, &bad_text);
    assert_refused(&bad, "107 (download failed) reported to OneNET");
    assert!(!bad_out.exists());
    assert!(!data.path().join("bad.bin.part").exists());
    let state = get_json(&format!("{url}/_sim/onenet/tasks/{}", task["task_id"])).await;
    assert_eq!(
        (state["state"].as_str(), state["last_result"].as_i64()),
        (Some("failed"), Some(107))
    );
    sim.shutdown().await;
}

#[test]
fn token_prints_the_documented_header_value() {
    let data = tempfile::tempdir().unwrap();
    // The access key is base64 of "onenet-test-access-key-0001"; the expected value was computed with
    // Python's hmac + base64 + urllib.parse.quote (see ota-clouds' token vectors).
    let key = "b25lbmV0LXRlc3QtYWNjZXNzLWtleS0wMDAx";
    let value = succeeded(&otactl(data.path(), &token_args(key), None));
    assert_eq!(
        value.trim(),
        "version=2018-10-31&res=products%2F245528&et=7559008892&method=sha1&sign=wGfoAZlbCKvEp4tRtVf0zPW1Hk4%3D"
    );
    // Reading the key from stdin gives the same value.
    let piped = otactl(data.path(), &token_args("-"), Some(&format!("{key}\n")));
    assert_eq!(succeeded(&piped), value);
    // Nothing was written: the token command needs no store.
    assert!(std::fs::read_dir(data.path()).unwrap().next().is_none());
}
