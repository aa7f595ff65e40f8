//! `otactl vicohome start --wait` against the simulator, as a technician runs it.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::*;
use serde_json::{json, Value};

/// `otactl vicohome start --wait --json` of `serial` on the simulator, otactl's clock at its 1000x.
fn start_and_follow_fast(data: &std::path::Path, url: &str, serial: &str) -> std::process::Output {
    otactl_with_env(data, &start_and_follow(url, serial), None, &CLOCK_1000)
}

fn assert_never_backwards(lines: &[Value]) {
    let percents: Vec<u64> = lines
        .iter()
        .map(|l| l["percent"].as_u64().unwrap())
        .collect();
    assert!(
        percents.windows(2).all(|w| w[0] <= w[1]),
        "progress ran backwards: {percents:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_camera_updates_to_100_percent() {
    let sim = sim(40, 5).await;
    let url = sim.url();
    let serial = updatable_camera(&url).await;
    let data = tempfile::tempdir().unwrap();
    let out = start_and_follow_fast(data.path(), &url, &serial);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let lines = json_lines(&stdout(&out));
    let last = lines.last().expect("progress lines");
    assert_eq!(last["serial"], serial.as_str());
    assert_eq!(last["percent"], 100);
    assert_eq!(last["otaStatus"], 3);
    assert!(last["total"].as_u64().unwrap() > 0);
    assert_eq!(last["transferred"], last["total"]);
    assert_never_backwards(&lines);
    assert_eq!(logged(&sim.url(), "/device/otastart/").await, ["ok"]);

    // The cache shows the new firmware right away.
    let cached = otactl(
        data.path(),
        &["devices", "list", "--cached", "--json", "--search", &serial],
        None,
    );
    let devices: Value = serde_json::from_str(&stdout(&cached)).unwrap();
    assert_eq!(devices[0]["firmware"], devices[0]["newestFirmware"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_low_battery_camera_fails_with_the_catalogue_message() {
    let sim = sim(40, 5).await;
    let url = sim.url();
    let serial = updatable_camera(&url).await;
    let flat = json!({"battery": 5, "is_charging": false});
    post_json(&format!("{url}/_sim/devices/{serial}"), flat).await;
    let data = tempfile::tempdir().unwrap();
    let out = start_and_follow_fast(data.path(), &url, &serial);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("battery is too low"), "stderr: {err}");
    assert!(err.contains("-103"), "vendor code shown: {err}");
    assert!(err.contains("Charge the camera"), "next step shown: {err}");
}

/// Killing otactl mid-update and running the same command again follows the same job to the end: the
/// camera is never sent a second start. A 429 / 503 burst while polling is ridden out.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_cli_resumes_watching_without_a_second_start() {
    let sim = sim_at(40, 5, 4.0).await;
    let serial = updatable_camera(&sim.url()).await;
    let data = tempfile::tempdir().unwrap();
    let url = sim.url();
    let args = start_and_follow(&url, &serial);
    let env = [("OTA_CONSOLE_TIME_SCALE", "4")];

    let mut first = otactl_command(data.path(), &args, &env)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reader = BufReader::new(first.stdout.take().unwrap());
    let mut seen = Vec::new();
    for line in reader.lines() {
        let line = line.unwrap();
        let value: Value = serde_json::from_str(&line).unwrap();
        let downloading = value["phase"] == "downloading";
        seen.push(value);
        if downloading {
            break;
        }
    }
    assert_eq!(seen.last().unwrap()["phase"], "downloading", "{seen:?}");
    first.kill().unwrap(); // SIGKILL: no clean-up code runs.
    first.wait().unwrap();

    for kind in ["http_429", "http_5xx"] {
        fault(&url, json!({"target": serial, "kind": kind, "count": 2})).await;
    }
    let second = tokio::task::spawn_blocking({
        let dir = data.path().to_path_buf();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            otactl_with_env(&dir, &args, None, &env)
        }
    })
    .await
    .unwrap();
    assert!(second.status.success(), "stderr: {}", stderr(&second));
    let lines = json_lines(&stdout(&second));
    assert_eq!(lines.last().unwrap()["percent"], 100);
    assert_never_backwards(&lines);
    assert_eq!(
        logged(&sim.url(), "/device/otastart/").await,
        ["ok"],
        "the camera got exactly one start"
    );
    let statuses = logged(&sim.url(), "/device/otastatus/").await;
    assert!(
        statuses.iter().any(|o| o == "http_429") && statuses.iter().any(|o| o == "http_503"),
        "the faults were served: {statuses:?}"
    );
}
