//! The campaign runner survives being killed: `otactl campaign start` is SIGKILLed at random points
//! several times during a campaign; every restart continues it, it completes, and the simulator's own
//! record shows every device started exactly once. The audit export then lists every action taken.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

const KILLS: usize = 5;
/// A killed runner's lease keeps the next one waiting this long (milliseconds), not the default 15 s.
const LEASE_MS: &str = "1000";

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_killed_at_random_points_completes_without_starting_a_device_twice() {
    let bench = campaign_bench("Kill test", LEASE_MS, "12", "150").await;
    let (url, data) = (&bench.url, &bench.data);
    let CameraCampaign { id, eligible } = &bench.campaign;
    let (id, eligible) = (id.as_str(), *eligible);
    let run = |args: &[&str]| bench.run(args);

    let seed = kill_seed();
    // The simulator's own PRNG, seeded from the clock (printed, so a failing run can be replayed).
    let mut rng = ota_sim::fleet::SplitMix64::new(seed);
    for kill in 0..KILLS {
        let mut child = bench
            .runner()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let after = Duration::from_millis(400 + rng.below(1_600));
        let started = Instant::now();
        while started.elapsed() < after {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let finished_first = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL on Unix
        child.wait().unwrap();
        assert_eq!(integrity(data.path()), "ok", "after kill {kill}");
        let now = vicohome_starts(url).await;
        assert!(
            now.values().all(|&n| n == 1),
            "after kill {kill} at {after:?}, a device was started twice: {:?}",
            started_twice(&now)
        );
        eprintln!(
            "kill {kill} after {after:?}: {} cameras started so far{}",
            now.len(),
            if finished_first {
                " (it had finished)"
            } else {
                ""
            }
        );
    }
    let progress_before_last = vicohome_starts(url).await.len() as u64;
    assert!(progress_before_last > 0, "the killed runs made progress");

    let last = run(&["campaign", "start", id]);
    assert!(
        last.status.success(),
        "{}\n{}",
        stdout(&last),
        stderr(&last)
    );
    let status = run(&["campaign", "status", id, "--json"]);
    let dashboard = json_of(&status);
    let counts = &dashboard["campaign"]["counts"];
    assert_eq!(dashboard["campaign"]["state"], "completed");
    assert_eq!(
        counts["succeeded"].as_u64().unwrap(),
        eligible,
        "no device forgotten"
    );
    assert_eq!(counts["failed"], 0);
    let started = vicohome_starts(url).await;
    assert_eq!(started.len() as u64, eligible);
    assert!(started.values().all(|&n| n == 1), "no device started twice");

    // Every action of this test is in the audit export.
    let csv = run(&["audit", "export", "--format", "csv"]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let text = stdout(&csv);
    for action in [
        ",firmware.add,",
        ",firmware.publish,",
        ",campaign.create,",
        ",campaign.start,",
        ",campaign.complete,",
    ] {
        assert!(text.contains(action), "{action} missing from the export");
    }
    let device_starts = text
        .lines()
        .filter(|l| l.contains(",campaign.device.start,"))
        .count();
    assert_eq!(
        device_starts as u64, eligible,
        "one audited start per camera, restarts included"
    );
    let json = run(&CAMPAIGN_AUDIT_JSON);
    let entries = json_of(&json);
    assert!(entries
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"].as_str().unwrap().starts_with("campaign.")));
}
