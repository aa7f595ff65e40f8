//! `otactl serve`, as real processes on a real simulator: a campaign set running with `campaign start
//! --detach` is run to completion by one `serve`, whose `/metrics` parse as Prometheus text and count what
//! the campaign did; two `serve` share a campaign and, when the one holding its lease is SIGKILLed mid-wave,
//! the other takes over within about a lease period and completes it, every camera started exactly once;
//! SIGTERM stops a `serve` promptly with exit 0 and releases its lease, so the next runner starts at once.

#![cfg(unix)]

mod common;
mod serving;

use std::time::{Duration, Instant};

use common::*;
use serving::*;

#[test]
fn the_metrics_parser_is_strict() {
    let good = "# HELP ota_x A thing.\n# TYPE ota_x counter\nota_x_total{kind=\"a\\\"b\",z=\"1\"} 3\n# TYPE ota_g gauge\nota_g 1.5\n# EOF";
    let parsed = parse_metrics(good).unwrap();
    assert_eq!(parsed["ota_x_total{kind=\"a\\\"b\",z=\"1\"}"], 3.0);
    assert_eq!(parsed["ota_g"], 1.5);
    for (bad, why) in [
        (
            "# TYPE ota_x counter\nota_x_total 1",
            "does not end with # EOF",
        ),
        ("# TYPE ota_x counter\nota_x 1\n# EOF", "no declared family"),
        ("ota_y 1\n# EOF", "no declared family"),
        ("# TYPE ota_g gauge\nota_g{a=b} 1\n# EOF", "unquoted"),
        (
            "# TYPE ota_g gauge\nota_g{a=\"b\",} 1\n# EOF",
            "trailing comma",
        ),
        ("# TYPE ota_g gauge\nota_g{a=\"b\" 1\n# EOF", "commas"),
        ("# TYPE ota_g gauge\nota_g one\n# EOF", "not a value"),
        ("# TYPE ota_g gauge\nota_g 1\nota_g 2\n# EOF", "given twice"),
        (
            "# TYPE ota_g gauge\n# TYPE ota_g gauge\nota_g 1\n# EOF",
            "typed twice",
        ),
        ("# TYPE ota_g meter\nota_g 1\n# EOF", "no metric type"),
    ] {
        let err = parse_metrics(bad).expect_err(bad);
        assert!(err.contains(why), "{bad:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_serve_runs_a_detached_campaign_to_completion_and_its_metrics_count_what_it_did() {
    let began = Instant::now();
    let sim = sim_at(600, 31, 300.0).await;
    let url = sim.url();
    let data = tempfile::tempdir().unwrap();
    let env = [("OTA_CONSOLE_TIME_SCALE", "300")];
    let campaign = camera_campaign(
        data.path(),
        &url,
        &env,
        "Served",
        &["--waves", "50,100", "--concurrency", "24", "--rate", "200"],
    );
    let (id, eligible) = (campaign.id.as_str(), campaign.eligible);
    assert!(eligible >= 10, "enough cameras: {eligible}");

    start_detached(data.path(), &url, &env, id);
    assert!(
        vicohome_starts(&url).await.is_empty(),
        "--detach ran nothing"
    );
    assert_eq!(
        status(data.path(), &url, &env, id)["runBy"],
        serde_json::Value::Null
    );

    let mut serve = Serve::start(data.path(), &url, &env, "edge-1", true);
    let metrics_url = serve.metrics_url().await;
    until_completed(data.path(), &url, &env, id).await;
    let ran_in = began.elapsed();

    let starts = vicohome_starts(&url).await;
    assert_eq!(starts.len() as u64, eligible, "every camera started");
    assert!(
        starts.values().all(|&n| n == 1),
        "{:?}",
        started_twice(&starts)
    );

    let m = scrape(&metrics_url).await;
    assert_eq!(metric(&m, "ota_device_starts_total"), eligible as f64);
    assert_eq!(metric(&m, "ota_campaigns{state=\"completed\"}"), 1.0);
    assert_eq!(metric(&m, "ota_campaigns{state=\"running\"}"), 0.0);
    assert_eq!(
        metric(&m, "ota_campaign_devices{state=\"succeeded\"}"),
        eligible as f64
    );
    assert_eq!(metric(&m, "ota_campaign_devices{state=\"in_flight\"}"), 0.0);
    assert_eq!(metric(&m, "ota_lease_takeovers_total"), 0.0);
    let failures: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("ota_device_failures_total"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(failures, 0.0, "{m:#?}");
    // The simulator's host: at least a start and a status read per camera, and no 429.
    let port = url.rsplit(':').next().unwrap();
    let host = format!("host=\"127.0.0.1:{port}\"");
    let requests = metric(&m, &format!("ota_cloud_requests_total{{{host}}}"));
    assert!(requests >= 2.0 * eligible as f64, "{requests} requests");
    assert_eq!(
        m.get(&format!("ota_cloud_rate_limited_total{{{host}}}"))
            .copied()
            .unwrap_or(0.0),
        0.0
    );

    // Its name is the audit log's user for what it did.
    let complete = audited(data.path(), &url, &env, "campaign.complete");
    assert_eq!(complete.len(), 1);
    assert_eq!(complete[0]["actor"], "edge-1", "{}", complete[0]);
    let device_starts = audited(data.path(), &url, &env, "campaign.device.start");
    assert_eq!(device_starts.len() as u64, eligible);
    assert!(device_starts.iter().all(|e| e["actor"] == "edge-1"));

    let said = serve.said();
    for words in [
        format!("campaign {id} (Served): picked up"),
        format!("campaign {id}: running it here"),
        format!("campaign {id}: completed ({eligible} succeeded, 0 failed"),
    ] {
        assert!(said.contains(&words), "no {words:?} in:\n{said}");
    }
    serve.signal("TERM");
    let exit = serve.exit(Duration::from_secs(10)).await;
    assert!(exit.success(), "{exit}:\n{}", serve.said());
    eprintln!("{eligible} cameras run by one serve in {ran_in:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_serves_share_a_campaign_and_the_other_takes_over_when_the_holder_is_killed() {
    const LEASE_MS: u64 = 1500;
    let bench = campaign_bench("Served by two", "1500", "10", "80").await;
    let (url, data, env) = (&bench.url, bench.data.path(), &bench.env);
    let (id, eligible) = (bench.campaign.id.as_str(), bench.campaign.eligible);
    start_detached(data, url, env, id);

    let mut serves = vec![
        Serve::start(data, url, env, "serve-a", true),
        Serve::start(data, url, env, "serve-b", true),
    ];
    // Mid-wave: the holder has started a quarter of the cameras.
    until(
        Duration::from_secs(60),
        "a quarter of the cameras started",
        || block_on(vicohome_starts(url)).len() as u64 >= eligible / 4,
    )
    .await;
    let holder = holder_pid(data, id).expect("a serve holds the campaign");
    let index = serves
        .iter()
        .position(|s| s.pid() == holder)
        .expect("the holder is one of the two serves");
    let mut killed = serves.swap_remove(index);
    let survivor = serves.pop().unwrap();
    // The follower said who ran the campaign.
    survivor
        .line(Duration::from_secs(5), |l| {
            l.starts_with(&format!("campaign {id}: run by otactl serve serve-"))
                && l.contains(&format!(" pid {holder} on host "))
                && l.ends_with("; following (taken over if its lease expires)")
        })
        .await;
    let started_before = vicohome_starts(url).await.len() as u64;
    assert!(
        started_before < eligible,
        "killed mid-way: {started_before} of {eligible}"
    );
    killed.child.kill().unwrap(); // SIGKILL
    killed.child.wait().unwrap();
    let killed_name = if killed.said().contains("serving as otactl serve serve-a") {
        "serve-a"
    } else {
        "serve-b"
    };

    let took = until(
        Duration::from_secs(10),
        "the survivor holds the lease",
        || holder_pid(data, id) == Some(survivor.pid()),
    )
    .await;
    assert!(
        took < Duration::from_millis(2 * LEASE_MS),
        "taken over {took:?} after the kill (lease {LEASE_MS} ms)"
    );
    until_completed(data, url, env, id).await;

    let starts = vicohome_starts(url).await;
    assert_eq!(starts.len() as u64, eligible, "every camera started");
    assert!(
        starts.values().all(|&n| n == 1),
        "started twice: {:?}",
        started_twice(&starts)
    );
    assert_eq!(integrity(data), "ok");

    let takeovers = audited(data, url, env, "campaign.takeover");
    assert_eq!(takeovers.len(), 1, "{takeovers:?}");
    let detail = takeovers[0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!(
            "from otactl serve {killed_name} pid {holder} on host "
        )),
        "{detail}"
    );
    survivor
        .line(Duration::from_secs(1), |l| {
            l.starts_with(&format!(
                "campaign {id}: took it over from otactl serve {killed_name} pid {holder} on host "
            ))
        })
        .await;

    // The survivor's counters are what it recorded: its own starts (not those it found sent by the killed
    // one), and one takeover.
    let survivor_name = if killed_name == "serve-a" {
        "serve-b"
    } else {
        "serve-a"
    };
    let own_starts = audited(data, url, env, "campaign.device.start")
        .iter()
        .filter(|e| {
            e["actor"] == survivor_name
                && !e["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("found after a restart"))
        })
        .count();
    let m = scrape(&survivor.metrics_url().await).await;
    assert_eq!(metric(&m, "ota_lease_takeovers_total"), 1.0);
    assert_eq!(metric(&m, "ota_device_starts_total"), own_starts as f64);
    assert_eq!(metric(&m, "ota_campaigns{state=\"completed\"}"), 1.0);

    let mut survivor = survivor;
    survivor.signal("TERM");
    let exit = survivor.exit(Duration::from_secs(10)).await;
    assert!(exit.success(), "{exit}:\n{}", survivor.said());
    eprintln!(
        "{eligible} cameras; holder killed at {started_before} started; taken over in {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_serve_promptly_and_releases_its_lease_for_the_next_runner() {
    let sim = sim_at(600, 47, 300.0).await;
    let url = sim.url();
    let data = tempfile::tempdir().unwrap();
    // The lease period stays the default 15 s: a lease left to expire would hold the next runner back.
    let env = [("OTA_CONSOLE_TIME_SCALE", "300")];
    let campaign = camera_campaign(
        data.path(),
        &url,
        &env,
        "Stopped",
        &["--concurrency", "3", "--rate", "4"],
    );
    let id = campaign.id.as_str();
    start_detached(data.path(), &url, &env, id);

    let mut serve = Serve::start(data.path(), &url, &env, "edge-c", false);
    until(Duration::from_secs(30), "a few cameras started", || {
        block_on(vicohome_starts(&url)).len() >= 3
    })
    .await;
    // The lease row and `campaign status` name the runner.
    let (pid, program, _) = lease_row(data.path(), id).expect("a lease row");
    assert_eq!(
        (pid, program.as_str()),
        (serve.pid(), "otactl serve edge-c")
    );
    let text = stdout(&otactl_ok(
        data.path(),
        &url,
        &env,
        &["campaign", "status", id],
    ));
    assert!(
        text.contains(&format!("run by otactl serve edge-c pid {pid} on host ")),
        "{text}"
    );

    serve.signal("TERM");
    let asked = Instant::now();
    let exit = serve.exit(Duration::from_secs(10)).await;
    let stopped_in = asked.elapsed();
    assert!(exit.success(), "{exit}:\n{}", serve.said());
    assert!(
        stopped_in < Duration::from_secs(3),
        "stopped in {stopped_in:?}"
    );
    assert_eq!(lease_row(data.path(), id), None, "the lease was released");
    let dashboard = status(data.path(), &url, &env, id);
    assert_eq!(
        dashboard["campaign"]["state"], "running",
        "left for another runner"
    );
    assert_eq!(dashboard["runBy"], serde_json::Value::Null);
    let said = serve.said();
    for words in [
        "SIGTERM: stopping".to_string(),
        format!("campaign {id}: stopped here, still running"),
        "stopped: 1 campaign(s) picked up, 0 ended, 1 handed back".to_string(),
    ] {
        assert!(said.contains(&words), "no {words:?} in:\n{said}");
    }
    let starts = vicohome_starts(&url).await;
    assert!(
        starts.values().all(|&n| n == 1),
        "{:?}",
        started_twice(&starts)
    );

    // The next runner starts at once — no 15 s wait for an expiry — and takes nothing over.
    let began = Instant::now();
    let mut next = Serve::start(data.path(), &url, &env, "edge-d", false);
    let took = until(
        Duration::from_secs(10),
        "the next serve holds the lease",
        || holder_pid(data.path(), id) == Some(next.pid()),
    )
    .await;
    assert!(
        took < Duration::from_secs(5),
        "the next runner waited {took:?}"
    );
    next.line(Duration::from_secs(5), |l| {
        l == format!("campaign {id}: running it here")
    })
    .await;
    until(Duration::from_secs(30), "more cameras started", || {
        block_on(vicohome_starts(&url)).len() > starts.len()
    })
    .await;
    next.signal("INT");
    let exit = next.exit(Duration::from_secs(10)).await;
    assert!(exit.success(), "{exit}:\n{}", next.said());
    assert_eq!(lease_row(data.path(), id), None);
    let starts = vicohome_starts(&url).await;
    assert!(
        starts.values().all(|&n| n == 1),
        "{:?}",
        started_twice(&starts)
    );
    assert!(audited(data.path(), &url, &env, "campaign.takeover").is_empty());
    eprintln!(
        "SIGTERM to exit: {stopped_in:?}; next runner running in {took:?} ({:?} in all)",
        began.elapsed()
    );
}
