//! While the window has a data folder open (it holds `<data>/.lock`; here the test holds it as the window
//! would), `otactl` begins no campaign or update there but follows one already running, and read-only
//! commands work as usual. Once the window is gone, the same commands go through.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use ota_core::folder_lock::WindowLock;

const ENV: [(&str, &str); 2] = [
    ("OTA_CONSOLE_TIME_SCALE", "300"),
    ("OTA_CONSOLE_CAMPAIGN_LEASE_MS", "3000"),
];

fn refused_by_the_window(out: &std::process::Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: exit 1 (conflict)\n{}\n{}",
        stdout(out),
        stderr(out)
    );
    let error = &json_of(out)["error"];
    assert_eq!(error["code"], "conflict", "{what}: {error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("has this data folder open")
            && message.contains(&format!("pid {}", std::process::id())),
        "{what}: the message names the window: {message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn otactl_begins_nothing_while_the_window_has_the_folder_and_follows_what_runs() {
    let sim = sim_at(60, 17, 300.0).await;
    let url = sim.url();
    let data = tempfile::tempdir().unwrap();
    let campaign = camera_campaign(
        data.path(),
        &url,
        &ENV,
        "Lock test",
        &["--waves", "100", "--concurrency", "5", "--rate", "40"],
    );
    let camera = updatable_camera(&url).await;
    let run = |args: &[&str]| {
        let mut full = vec!["--sim-url", url.as_str()];
        full.extend_from_slice(args);
        otactl_with_env(data.path(), &full, None, &ENV)
    };

    let window = WindowLock::acquire(data.path()).expect("the test takes the window's lock");
    refused_by_the_window(
        &run(&["campaign", "start", &campaign.id, "--json"]),
        "campaign start",
    );
    refused_by_the_window(
        &run(&["campaign", "retry-failed", &campaign.id, "--json"]),
        "campaign retry-failed",
    );
    refused_by_the_window(
        &run(&["vicohome", "start", "--serial", &camera, "--json"]),
        "vicohome start",
    );
    // Nothing was sent, nothing changed, and reading works while the window is open.
    assert!(
        vicohome_starts(&url).await.is_empty(),
        "no start reached the cloud"
    );
    let status = run(&["campaign", "status", &campaign.id, "--json"]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert_eq!(json_of(&status)["campaign"]["state"], "ready");
    assert!(run(&["firmware", "list", "--json"]).status.success());

    // The window closes: an update begins as usual.
    drop(window);
    let out = run(&["vicohome", "start", "--serial", &camera, "--json"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert_eq!(vicohome_starts(&url).await.get(&camera), Some(&1));

    // A runner starts the campaign. A window that opens meanwhile does not stop a second
    // `campaign start` from following the running campaign.
    let first = otactl_command(
        data.path(),
        &["--sim-url", &url, "campaign", "start", &campaign.id],
        &ENV,
    )
    .env("RUST_LOG", "warn")
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = json_of(&run(&["campaign", "status", &campaign.id, "--json"]));
        if status["campaign"]["state"] != "ready" {
            break;
        }
        assert!(Instant::now() < deadline, "the campaign never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let window = WindowLock::acquire(data.path()).expect("the window opens again");
    let follower = run(&["campaign", "start", &campaign.id]);
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        follower.status.success(),
        "a running campaign is followed, not refused: {}\n{}",
        stdout(&follower),
        stderr(&follower)
    );
    assert!(
        stdout(&follower).contains("following"),
        "it followed the running campaign: {}",
        stdout(&follower)
    );
    let starts = vicohome_starts(&url).await;
    assert!(
        starts.len() as u64 >= campaign.eligible,
        "every camera of the campaign started: {starts:?}"
    );
    assert!(
        starts.values().all(|&n| n == 1),
        "started twice: {starts:?}"
    );
    drop(window);
}
