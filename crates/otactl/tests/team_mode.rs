//! Team mode, as real processes over one PostgreSQL: three `otactl serve` runners (each with its own data
//! folder, as on three machines) share a 5 000-camera campaign in three waves on the simulator; the one
//! holding the campaign's lease is SIGKILLed mid-way. The campaign completes, the simulator saw every
//! eligible camera started exactly once, the shared audit log has one start per camera, and a survivor
//! took the campaign over within one lease period. `campaign start` in team mode only sets the campaign
//! running: the runners run it.
//!
//! Needs the throwaway PostgreSQL `cargo xtask test` starts (`OTA_CONSOLE_TEST_DATABASE_URL`).

#![cfg(unix)]

mod common;
mod serving;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use serving::*;

const LEASE_MS: u64 = 2_000;
const CAMERAS: u64 = 5_000;

/// Who holds the campaign's live lease, as `campaign status` shows it to any desk of the team.
fn holder_pid_of(data: &Path, url: &str, env: &[(&str, &str)], id: &str) -> Option<u64> {
    status(data, url, env, id)["runBy"]["pid"].as_u64()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_runners_share_a_5000_camera_campaign_and_survive_one_killed() {
    let database = ota_core::db::fresh_test_database().expect("a team database");
    // About a third of the simulated fleet are online cameras an update applies to.
    let sim = sim_at(16_500, 5, 300.0).await;
    let url = sim.url();
    let lease = LEASE_MS.to_string();
    let env = [
        ("OTA_CONSOLE_DATABASE_URL", database.as_str()),
        ("OTA_CONSOLE_TIME_SCALE", "300"),
        ("OTA_CONSOLE_CAMPAIGN_LEASE_MS", lease.as_str()),
    ];
    // Three machines: three data folders, one team database.
    let desks: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let desk = desks[0].path();
    let campaign = camera_campaign(
        desk,
        &url,
        &env,
        "Team rollout",
        &[
            "--waves",
            "10,40,100",
            "--concurrency",
            "120",
            "--rate",
            "600",
            "--threshold",
            "100",
        ],
    );
    let (id, eligible) = (campaign.id.as_str(), campaign.eligible);
    assert!(eligible >= CAMERAS, "a 5 000-camera campaign: {eligible}");

    // A webhook added at the desk: the runners deliver its events (one dispatcher at a time per webhook).
    let secret = format!("team-hook-{}", std::process::id());
    let (hook_url, received) = receiver(&secret).await;
    let added = otactl_with_env(
        desk,
        &[
            "webhooks",
            "add",
            &hook_url,
            "--events",
            "campaign.*",
            "--json",
        ],
        Some(&format!("{secret}\n")),
        &env,
    );
    assert!(added.status.success(), "{}", stderr(&added));

    // Team mode: `campaign start` sets it running and returns; nothing is sent from this desk.
    let started = json_of(&otactl_ok(
        desk,
        &url,
        &env,
        &["campaign", "start", id, "--json"],
    ));
    assert_eq!(started["state"], "running", "{started}");
    assert!(
        vicohome_starts(&url).await.is_empty(),
        "the desk ran nothing"
    );

    let began = Instant::now();
    let mut runners: Vec<Serve> = ["runner-a", "runner-b", "runner-c"]
        .iter()
        .zip(&desks)
        .map(|(name, dir)| Serve::start(dir.path(), &url, &env, name, true))
        .collect();
    // Mid-way through the last wave (10 % + 30 % before it).
    until(
        Duration::from_secs(240),
        "over half of the cameras started",
        || block_on(vicohome_starts(&url)).len() as u64 >= eligible * 55 / 100,
    )
    .await;
    let holder = holder_pid_of(desk, &url, &env, id).expect("a runner holds the campaign");
    let index = runners
        .iter()
        .position(|s| u64::from(s.pid()) == holder)
        .expect("the holder is one of the runners");
    let mut killed = runners.swap_remove(index);
    let started_before = vicohome_starts(&url).await.len() as u64;
    assert!(started_before < eligible, "killed mid-way");
    let killed_at_ms = ota_core::now_ms();
    killed.child.kill().unwrap(); // SIGKILL: no release, the lease must expire.
    killed.child.wait().unwrap();

    let survivors: BTreeSet<u64> = runners.iter().map(|s| u64::from(s.pid())).collect();
    until(
        Duration::from_secs(30),
        "a survivor holds the lease",
        || holder_pid_of(desk, &url, &env, id).is_some_and(|pid| survivors.contains(&pid)),
    )
    .await;
    until_completed_within(Duration::from_secs(600), desk, &url, &env, id).await;
    let ran_for = began.elapsed();

    // Each camera started exactly once (the simulator's record), one audited start each, whichever runner.
    assert_each_started_and_audited_once(desk, &url, &env, eligible).await;
    // Taken over once, within one lease period of the kill (plus the followers' check interval, a tenth
    // of the period): the lease was renewed last before the kill.
    let takeovers = audited(desk, &url, &env, "campaign.takeover");
    assert_eq!(takeovers.len(), 1, "{takeovers:?}");
    let took_ms = takeovers[0]["at"].as_i64().expect("when") - killed_at_ms;
    assert!(
        took_ms <= (LEASE_MS + LEASE_MS / 10 + 250) as i64,
        "taken over {took_ms} ms after the kill (lease {LEASE_MS} ms)"
    );

    // Every campaign event reached the webhook once, in order, signed — sent by whichever runner held it.
    let expected = [
        "campaign.started",
        "campaign.wave_passed",
        "campaign.wave_passed",
        "campaign.wave_passed",
        "campaign.completed",
    ];
    until(
        Duration::from_secs(30),
        "the webhook got campaign.completed",
        || received.lock().unwrap().len() >= expected.len(),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = received.lock().unwrap().clone();
    assert_eq!(
        got.iter().map(|(e, ..)| e.as_str()).collect::<Vec<_>>(),
        expected,
        "each event once, in order"
    );
    assert!(
        got.iter().all(|(.., signed)| *signed),
        "every delivery signed with the secret"
    );

    for mut runner in runners {
        runner.signal("TERM");
        let exit = runner.exit(Duration::from_secs(15)).await;
        assert!(exit.success(), "{exit}:\n{}", runner.said());
    }
    eprintln!(
        "{eligible} cameras, 3 runners: holder killed at {started_before} started, taken over {took_ms} ms \
         after the kill (lease {LEASE_MS} ms), completed in {ran_for:?}"
    );
}
