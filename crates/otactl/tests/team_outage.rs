//! Team mode when PostgreSQL goes away: two `otactl serve` runners share a campaign; the team database is
//! stopped for 30 s mid-campaign. Both runners say it is unreachable and that campaigns pause, nothing new
//! is started meanwhile, and once it is back they say so and the campaign completes: every camera started
//! exactly once, one audited start each.
//!
//! Its own test binary: it stops the shared throwaway cluster, so no other test may run beside it. Needs
//! `OTA_CONSOLE_TEST_DATABASE_URL` and `OTA_CONSOLE_TEST_POSTGRES_CTL` (`cargo xtask test` sets both).

#![cfg(unix)]

mod common;
mod serving;

use std::time::{Duration, Instant};

use common::*;
use serving::*;

const OUTAGE: Duration = Duration::from_secs(30);

/// Runs `pg_ctl ARGS` on the test cluster.
fn pg_ctl(args: &str) {
    let control = std::env::var("OTA_CONSOLE_TEST_POSTGRES_CTL").expect(
        "OTA_CONSOLE_TEST_POSTGRES_CTL: run with `cargo xtask test` (or `cargo xtask postgres` prints it)",
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{control} {args}"))
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "pg_ctl {args}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The server stopped by this test: brought back even when an assertion fails meanwhile, so the tests
/// after this one find it running.
struct Stopped;

impl Stopped {
    fn now() -> Self {
        pg_ctl("-m fast -w stop");
        Stopped
    }

    fn restart(self) {
        pg_ctl("-w restart");
        std::mem::forget(self);
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        pg_ctl("-w restart");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn runners_pause_while_postgresql_is_down_and_resume_without_starting_twice() {
    let database = ota_core::db::fresh_test_database().expect("a team database");
    let sim = sim_at(2_000, 19, 300.0).await;
    let url = sim.url();
    let env = [
        ("OTA_CONSOLE_DATABASE_URL", database.as_str()),
        ("OTA_CONSOLE_TIME_SCALE", "300"),
        ("OTA_CONSOLE_CAMPAIGN_LEASE_MS", "3000"),
    ];
    let desks: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let desk = desks[0].path();
    let campaign = camera_campaign(
        desk,
        &url,
        &env,
        "Through an outage",
        &[
            "--waves",
            "10,100",
            "--concurrency",
            "20",
            "--rate",
            "60",
            "--threshold",
            "100",
        ],
    );
    let (id, eligible) = (campaign.id.as_str(), campaign.eligible);
    assert!(eligible >= 400, "enough cameras: {eligible}");
    otactl_ok(desk, &url, &env, &["campaign", "start", id]);

    let runners: Vec<Serve> = ["runner-a", "runner-b"]
        .iter()
        .zip(&desks)
        .map(|(name, dir)| Serve::start(dir.path(), &url, &env, name, false))
        .collect();
    until(
        Duration::from_secs(120),
        "a fifth of the cameras started",
        || block_on(vicohome_starts(&url)).len() as u64 >= eligible / 5,
    )
    .await;

    let outage = Stopped::now();
    let stopped = Instant::now();
    for runner in &runners {
        runner
            .line(Duration::from_secs(20), |l| {
                l.starts_with("team database unreachable: ")
                    && l.ends_with("; campaigns pause here and resume when it is back")
            })
            .await;
    }
    // Requests already on their way finish; then nothing new is sent while the database is away.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let paused_at = vicohome_starts(&url).await.len() as u64;
    tokio::time::sleep(OUTAGE.saturating_sub(stopped.elapsed())).await;
    let after_outage = vicohome_starts(&url).await.len() as u64;
    assert_eq!(
        after_outage, paused_at,
        "cameras were started while the team database was down"
    );
    assert!(paused_at < eligible, "stopped mid-campaign");
    outage.restart();
    let back = Instant::now();

    for runner in &runners {
        runner
            .line(Duration::from_secs(30), |l| {
                l == "team database reachable again; resuming the running campaigns"
            })
            .await;
    }
    until_completed_within(Duration::from_secs(240), desk, &url, &env, id).await;
    assert_each_started_and_audited_once(desk, &url, &env, eligible).await;
    eprintln!(
        "{eligible} cameras: {paused_at} started when PostgreSQL stopped for {OUTAGE:?}; completed {:?} after it came back",
        back.elapsed()
    );
}
