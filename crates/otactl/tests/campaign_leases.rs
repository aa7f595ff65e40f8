//! No device is started twice, whatever runs the campaign: three `otactl campaign start` processes run
//! the same campaign at once against one simulator. Only the holder of the campaign's lease works; the
//! others say who runs it and follow. The holder is SIGKILLed at random points ten times (each time a
//! fresh process joins), a follower takes over once the killed holder's lease expired, and the campaign
//! completes: the simulator's own record shows every camera started exactly once, the audit log has one
//! start per camera, and the database passes SQLite's integrity check.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Short, so a killed holder's campaign is taken over within about a second and a half.
const LEASE_MS: &str = "1500";
const RUNNERS: usize = 3;
const KILLS: usize = 10;

/// The pid of the runner holding the campaign's live lease, read as any process would.
fn holder_pid(data: &Path, id: &str) -> Option<u32> {
    let conn = rusqlite::Connection::open(ota_core::paths::database_path(data)).ok()?;
    conn.busy_timeout(Duration::from_secs(5)).ok()?;
    conn.query_row(
        "SELECT pid FROM campaign_leases WHERE campaign_id = ?1 AND expires_at > ?2",
        rusqlite::params![id.parse::<i64>().ok()?, ota_core::now_ms()],
        |r| r.get(0),
    )
    .ok()
}

struct Runner {
    child: Child,
    /// Its stdout (the "following" notice and the progress lines).
    output: PathBuf,
}

/// Starts the `n`th runner of the bench's campaign, its stdout in `runner-N.out`.
fn start_runner(bench: &CampaignBench, n: usize) -> Runner {
    let output = bench.data.path().join(format!("runner-{n}.out"));
    let file = std::fs::File::create(&output).unwrap();
    let child = bench
        .runner()
        .env("RUST_LOG", "warn")
        .stdout(Stdio::from(file))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Runner { child, output }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_runners_killed_at_random_start_every_camera_exactly_once() {
    let began = Instant::now();
    let bench = campaign_bench("Lease test", LEASE_MS, "10", "80").await;
    let (url, data) = (&bench.url, &bench.data);
    let (id, eligible) = (bench.campaign.id.as_str(), bench.campaign.eligible);

    let seed = kill_seed();
    let mut rng = ota_sim::fleet::SplitMix64::new(seed);
    let mut started = 0;
    let mut runners: Vec<Runner> = (0..RUNNERS)
        .map(|_| {
            started += 1;
            start_runner(&bench, started)
        })
        .collect();
    let mut killed_pids = Vec::new();

    while killed_pids.len() < KILLS {
        let kill = killed_pids.len();
        // Wait for a holder (after a kill: until its lease expired and a follower took over), let it work
        // for a random while, then kill whoever holds the lease at that moment.
        let deadline = Instant::now() + Duration::from_secs(15);
        let live_holder = |runners: &[Runner]| {
            holder_pid(data.path(), id)
                .and_then(|pid| runners.iter().position(|r| r.child.id() == pid))
        };
        while live_holder(&runners).is_none() {
            assert!(
                Instant::now() < deadline,
                "no live runner holds the campaign after kill {kill} (killed: {killed_pids:?})"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(50 + rng.below(1_200))).await;
        let Some(index) = live_holder(&runners) else {
            continue;
        };
        let pid = runners[index].child.id();
        let mut holder = runners.swap_remove(index);
        holder.child.kill().unwrap(); // SIGKILL on Unix
        holder.child.wait().unwrap();
        killed_pids.push(pid);
        started += 1;
        runners.push(start_runner(&bench, started));

        assert_eq!(integrity(data.path()), "ok", "after kill {kill}");
        let starts = vicohome_starts(url).await;
        let twice = started_twice(&starts);
        assert!(
            twice.is_empty(),
            "after kill {kill}, started twice: {twice:?}"
        );
        eprintln!(
            "kill {kill}: holder pid {pid} killed; {} cameras started so far",
            starts.len()
        );
    }
    // The rest finish: the holder completes the campaign and every follower then finds it done.
    for runner in &mut runners {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = runner.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "a runner failed: {status}\n{}",
                    std::fs::read_to_string(&runner.output).unwrap_or_default()
                );
                break;
            }
            if Instant::now() > deadline {
                runner.child.kill().ok();
                panic!("a runner did not finish");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    let dashboard = json_of(&bench.run(&["campaign", "status", id, "--json"]));
    assert_eq!(dashboard["campaign"]["state"], "completed");
    assert_eq!(
        dashboard["campaign"]["counts"]["succeeded"].as_u64(),
        Some(eligible),
        "every eligible camera completed"
    );
    assert_eq!(dashboard["campaign"]["counts"]["failed"], 0);
    assert!(
        dashboard["runBy"].is_null(),
        "the last runner gave its lease up: {}",
        dashboard["runBy"]
    );

    let starts = vicohome_starts(url).await;
    assert_eq!(starts.len() as u64, eligible, "every camera started");
    assert!(
        starts.values().all(|&n| n == 1),
        "started twice: {:?}",
        started_twice(&starts)
    );
    assert_eq!(integrity(data.path()), "ok");

    // Exactly one audited start per camera, and a takeover for every killed holder, naming it.
    let audit = json_of(&bench.run(&CAMPAIGN_AUDIT_JSON));
    let entries = audit.as_array().expect("audit entries");
    let mut per_device: BTreeMap<String, u32> = BTreeMap::new();
    for entry in entries
        .iter()
        .filter(|e| e["action"] == "campaign.device.start")
    {
        *per_device
            .entry(entry["target"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(
        per_device.len() as u64,
        eligible,
        "a start audited per camera"
    );
    assert!(
        per_device.values().all(|&n| n == 1),
        "audited twice: {:?}",
        per_device
            .iter()
            .filter(|(_, &n)| n > 1)
            .collect::<Vec<_>>()
    );
    let takeovers: Vec<&str> = entries
        .iter()
        .filter(|e| e["action"] == "campaign.takeover")
        .map(|e| e["detail"].as_str().unwrap_or_default())
        .collect();
    for pid in &killed_pids {
        assert!(
            takeovers
                .iter()
                .any(|d| d.contains(&format!("from otactl pid {pid} on host "))),
            "no takeover from killed pid {pid}: {takeovers:?}"
        );
    }

    // The runners that waited said who ran the campaign.
    let said: String = (1..=started)
        .map(|n| {
            std::fs::read_to_string(data.path().join(format!("runner-{n}.out"))).unwrap_or_default()
        })
        .collect();
    assert!(
        said.lines().any(
            |l| l.starts_with(&format!("campaign {id} is run by otactl pid "))
                && l.contains(" on host ")
                && l.contains("(lease until ")
                && l.ends_with("; following")
        ),
        "no runner said who ran the campaign:\n{said}"
    );
    eprintln!(
        "{eligible} cameras, {KILLS} kills, {} runners in all, {:?}",
        started,
        began.elapsed()
    );
}
