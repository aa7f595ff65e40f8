//! Campaigns (`ota_core::campaign`) against an in-memory cloud: waves, the failure threshold (abort and
//! pause), the retry policy, the maintenance window and the claim rules (each device started at most once,
//! a device already on the version or already updating is never started, a killed runner's devices are
//! followed by the next one).

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ota_core::campaign::model::{
    CampaignDeviceQuery, CampaignDeviceView, CampaignSettings, CampaignState, CampaignTargets,
    DeviceKey, MaintenanceWindow, NewCampaign, RetryPolicy, ThresholdAction,
};
use ota_core::campaign::{self, runner};
use ota_core::{ApiError, Console, DataKind, ErrorKind};
use support::{
    ended, fast_options, run_in_background, run_to_end, wait_until, EventKind, FakeCloud, Harness,
    Running, Script, HANG_GUARD, TARGET,
};

/// A killed runner's campaign is taken over once its lease expired: 15 s by default, 2 s here (long enough
/// that a live runner on a busy 2-core machine still renews in time).
const LEASE_MS: &str = "2000";

/// Sets the lease period before any runner of this test binary reads it (it is read once per process).
/// Every test reaches it (through `fleet`) before it opens a console, so no other test thread reads the
/// environment while it is set.
fn short_leases() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::env::set_var(campaign::lease::LEASE_PERIOD_ENV, LEASE_MS));
}

/// A harness whose library holds the target firmware.
struct Fleet {
    h: Harness,
    firmware_id: i64,
}

async fn fleet<'a>(devices: impl IntoIterator<Item = (&'a str, Script)>) -> Fleet {
    short_leases();
    let h = Harness::new(FakeCloud::new(devices)).await;
    let firmware_id = h.target_firmware();
    Fleet { h, firmware_id }
}

/// One wave, everything at once, no retries, any failure share allowed: each test changes what it tests.
fn settings() -> CampaignSettings {
    CampaignSettings {
        waves: vec![100.0],
        concurrency: 50,
        requests_per_second: 1_000.0,
        failure_threshold_percent: 100.0,
        ..CampaignSettings::default()
    }
}

fn device_error(message: &str) -> ApiError {
    ApiError::new(ErrorKind::Device, message).with_vendor_code("-10402")
}

fn offline_error() -> ApiError {
    ApiError::new(ErrorKind::Offline, "The camera dropped off the network.")
}

impl Fleet {
    /// Creates and starts a campaign over `devices`, in that order (the waves take them in order).
    fn start(&self, settings: CampaignSettings, devices: &[&str]) -> i64 {
        self.start_with(settings, CampaignRules::default(), devices)
    }

    fn rows(&self, id: i64) -> BTreeMap<String, CampaignDeviceView> {
        rows(&self.h.console, id)
    }
}

fn rows(console: &Console, id: i64) -> BTreeMap<String, CampaignDeviceView> {
    campaign::devices(console, id, &CampaignDeviceQuery::default())
        .expect("list the campaign's devices")
        .rows
        .into_iter()
        .map(|row| (row.device_id.clone(), row))
        .collect()
}

/// Runs the campaign until it ends or pauses.
async fn run(console: &Arc<Console>, id: i64) -> ota_core::campaign::model::CampaignView {
    run_to_end(console, id).await
}

/// Index in the cloud's log of the first event matching `kind` for `device`.
fn first_event(cloud: &FakeCloud, device: &str, kind: &EventKind) -> usize {
    cloud
        .events()
        .iter()
        .position(|e| e.device == device && &e.kind == kind)
        .unwrap_or_else(|| panic!("{device}: no {kind:?}"))
}

const EIGHT: [&str; 8] = [
    "cam-1", "cam-2", "cam-3", "cam-4", "cam-5", "cam-6", "cam-7", "cam-8",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_starts_only_when_the_previous_one_passed() {
    let f = fleet(EIGHT.map(|id| (id, Script::succeeds_after(3)))).await;
    let id = f.start(
        CampaignSettings {
            waves: vec![25.0, 100.0],
            failure_threshold_percent: 0.0,
            ..settings()
        },
        &EIGHT,
    );

    let done = run(&f.h.console, id).await;

    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, 8);
    let rows = f.rows(id);
    let (first, second): (Vec<&str>, Vec<&str>) = EIGHT
        .iter()
        .copied()
        .partition(|d| rows[*d].wave == Some(0));
    assert_eq!(first, ["cam-1", "cam-2"], "25 % of 8 devices");
    let cloud = &f.h.cloud;
    let wave_one_done = first
        .iter()
        .map(|d| first_event(cloud, d, &EventKind::Finished { succeeded: true }))
        .max()
        .unwrap();
    for device in &second {
        assert!(
            first_event(cloud, device, &EventKind::Start) > wave_one_done,
            "{device} (wave 2) started before wave 1 had finished: {:?}",
            cloud.events()
        );
    }
    assert!(
        cloud.starts_by_device().values().all(|&n| n == 1),
        "{:?}",
        cloud.starts_by_device()
    );
    let dashboard = campaign::dashboard(&f.h.console, id).unwrap();
    let per_wave: Vec<u32> = dashboard.waves.iter().map(|w| w.counts.succeeded).collect();
    assert_eq!(per_wave, [2, 6]);
    assert!((dashboard.success_percent - 100.0).abs() < 1e-9);
}

const SIX: [&str; 6] = ["cam-1", "cam-2", "cam-3", "cam-4", "cam-5", "cam-6"];

/// Wave 1 (cam-1..3): two of three fail, far above a 10 % threshold. Wave 2 (cam-4..6) would succeed.
async fn failing_first_wave(on_threshold: ThresholdAction) -> (Fleet, i64) {
    let f = fleet([
        (
            "cam-1",
            Script::fails_after(1, device_error("Install failed.")),
        ),
        (
            "cam-2",
            Script::fails_after(2, device_error("Install failed.")),
        ),
        ("cam-3", Script::succeeds_after(1)),
        ("cam-4", Script::succeeds_after(1)),
        ("cam-5", Script::succeeds_after(1)),
        ("cam-6", Script::succeeds_after(1)),
    ])
    .await;
    let id = f.start(
        CampaignSettings {
            waves: vec![50.0, 100.0],
            failure_threshold_percent: 10.0,
            on_threshold,
            ..settings()
        },
        &SIX,
    );
    (f, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_over_its_failure_threshold_aborts_the_campaign_before_the_next_wave() {
    let (f, id) = failing_first_wave(ThresholdAction::Abort).await;

    let done = run(&f.h.console, id).await;

    assert_eq!(done.state, CampaignState::Aborted);
    let reason = done.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("Wave 1 of 2") && reason.contains("later waves were not started"),
        "{reason}"
    );
    assert_eq!(
        (
            done.counts.succeeded,
            done.counts.failed,
            done.counts.pending
        ),
        (1, 2, 3)
    );
    for device in ["cam-4", "cam-5", "cam-6"] {
        assert_eq!(f.h.cloud.starts(device), 0, "{device} is in the next wave");
    }
    // The dashboard groups the failures by the cloud's words; the audit log says why it stopped.
    let dashboard = campaign::dashboard(&f.h.console, id).unwrap();
    assert_eq!(dashboard.failures.len(), 1);
    assert_eq!(dashboard.failures[0].count, 2);
    assert_eq!(dashboard.failures[0].message, "Install failed.");
    assert_eq!(dashboard.failures[0].vendor_code.as_deref(), Some("-10402"));
    let audit = f.h.console.store().audit_entries(50).unwrap();
    assert!(
        audit.iter().any(|e| e.action == "campaign.aborted"),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_over_its_failure_threshold_pauses_and_resume_goes_on_with_the_next_wave() {
    let (f, id) = failing_first_wave(ThresholdAction::Pause).await;

    let paused = run(&f.h.console, id).await;

    assert_eq!(paused.state, CampaignState::Paused);
    assert!(
        paused
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("paused before the next wave")),
        "{:?}",
        paused.reason
    );
    assert_eq!(f.h.cloud.total_starts(), 3, "only wave 1 started");

    campaign::resume(&f.h.console, id).expect("resume");
    let done = run(&f.h.console, id).await;

    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!((done.counts.succeeded, done.counts.failed), (4, 2));
    // Resuming does not retry wave 1's failures (that is "Retry failed devices"); it runs wave 2 once.
    assert!(
        f.h.cloud.starts_by_device().values().all(|&n| n == 1),
        "{:?}",
        f.h.cloud.starts_by_device()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retryable_failure_is_retried_with_backoff_up_to_the_limit_and_other_kinds_are_not() {
    let f = fleet([
        // Drops off the network on every attempt.
        ("cam-flaky", Script::fails_after(1, offline_error())),
        // Drops off once, then takes the update.
        (
            "cam-recovers",
            Script::fails_after(1, offline_error()).then(Script::succeeds_after(1)),
        ),
        // A device error is not in the policy's list.
        (
            "cam-broken",
            Script::fails_after(1, device_error("Flash is worn out.")),
        ),
    ])
    .await;
    let backoff = Duration::from_secs(1);
    let id = f.start(
        CampaignSettings {
            retry: RetryPolicy {
                max_retries: 2,
                backoff_secs: 1,
                retry_on: vec![ErrorKind::Offline],
            },
            ..settings()
        },
        &["cam-flaky", "cam-recovers", "cam-broken"],
    );

    let done = run(&f.h.console, id).await;

    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    let cloud = &f.h.cloud;
    assert_eq!(
        cloud.starts("cam-flaky"),
        3,
        "the first attempt and 2 retries"
    );
    assert_eq!(cloud.starts("cam-recovers"), 2);
    assert_eq!(
        cloud.starts("cam-broken"),
        1,
        "a device error is not retried"
    );
    let rows = f.rows(id);
    let outcome = |d: &str| {
        let row = &rows[d];
        (row.state, row.attempts, row.error.as_ref().map(|e| e.code))
    };
    use ota_core::campaign::model::CampaignDeviceState::{Failed, Succeeded};
    assert_eq!(outcome("cam-flaky"), (Failed, 3, Some(ErrorKind::Offline)));
    assert_eq!(outcome("cam-recovers"), (Succeeded, 2, None));
    assert_eq!(outcome("cam-broken"), (Failed, 1, Some(ErrorKind::Device)));

    // Each retry waited its backoff after the failure it follows, doubled for the second retry. (A lower
    // bound only: the system clock the runner schedules with is read in whole milliseconds.)
    let slack = Duration::from_millis(20);
    for device in ["cam-flaky", "cam-recovers"] {
        let events: Vec<_> = cloud
            .events()
            .into_iter()
            .filter(|e| e.device == device)
            .collect();
        let mut wait = backoff;
        for pair in events.windows(2) {
            if let (EventKind::Finished { succeeded: false }, EventKind::Start) =
                (&pair[0].kind, &pair[1].kind)
            {
                let waited = pair[1].at - pair[0].at;
                assert!(
                    waited + slack >= wait,
                    "{device} was retried after {waited:?}, before its {wait:?} backoff"
                );
                wait *= 2;
            }
        }
        assert!(wait > backoff, "{device} was never retried: {events:?}");
    }
}

/// A window that opened an hour from now and closes an hour later: closed whenever the test runs.
fn window_closed_now() -> MaintenanceWindow {
    let minute_now = (ota_core::now_ms() / 60_000).rem_euclid(24 * 60) as u16;
    MaintenanceWindow {
        days: vec![],
        start_minute: (minute_now + 120) % 1440,
        end_minute: (minute_now + 180) % 1440,
        utc_offset_minutes: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_starts_while_the_maintenance_window_is_closed() {
    let devices = ["cam-1", "cam-2", "cam-3"];
    let f = fleet(devices.map(|id| (id, Script::succeeds_after(1)))).await;
    let id = f.start(
        CampaignSettings {
            window: Some(window_closed_now()),
            ..settings()
        },
        &devices,
    );
    let requests_before = f.h.cloud.requests();
    let mut changes = f.h.console.subscribe();
    let running = run_in_background(&f.h.console, id);

    // The runner's first round ends with a notice; by then it would have claimed any device it may start.
    loop {
        let change = tokio::time::timeout(HANG_GUARD, changes.recv())
            .await
            .expect("the runner never reported")
            .expect("notices");
        if change == DataKind::Campaigns {
            break;
        }
    }
    let view = f.h.console.store().campaign_view(id).unwrap();
    assert_eq!(view.state, CampaignState::Running);
    assert_eq!((view.counts.pending, view.counts.in_flight), (3, 0));
    // A few more rounds change nothing either.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(f.h.cloud.total_starts(), 0);
    assert_eq!(
        f.h.cloud.requests(),
        requests_before,
        "not even a status read"
    );
    let dashboard = campaign::dashboard(&f.h.console, id).unwrap();
    let opens_at = dashboard
        .window_opens_at
        .expect("the dashboard says when it opens");
    let in_minutes = (opens_at - ota_core::now_ms()) / 60_000;
    assert!(
        (100..=120).contains(&in_minutes),
        "opens in {in_minutes} min"
    );

    campaign::cancel(&f.h.console, id).expect("cancel");
    let ended = tokio::time::timeout(HANG_GUARD, running)
        .await
        .expect("the runner stops after a cancel")
        .expect("runner task")
        .expect("runner");
    assert_eq!(ended.state, CampaignState::Cancelled);
    assert_eq!(ended.counts.cancelled, 3);
    assert_eq!(f.h.cloud.total_starts(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_already_on_the_version_or_already_updating_is_never_started() {
    let f = fleet([
        ("cam-fresh", Script::succeeds_after(2)),
        // Updated from the vendor's app since the fleet was last refreshed.
        ("cam-done", Script::on_target()),
        // Updating right now, started from the vendor's app.
        ("cam-busy", Script::already_updating(3)),
    ])
    .await;
    let id = f.start(settings(), &["cam-fresh", "cam-done", "cam-busy"]);

    let done = run(&f.h.console, id).await;

    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, 3);
    let cloud = &f.h.cloud;
    assert_eq!(cloud.starts("cam-fresh"), 1);
    assert_eq!(cloud.starts("cam-done"), 0, "already on {TARGET}");
    assert_eq!(cloud.starts("cam-busy"), 0, "followed, not started again");
    assert!(
        cloud.status_reads("cam-busy") >= 3,
        "the running update was followed to its end"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_on_one_campaign_never_start_a_device_twice() {
    let devices: Vec<String> = (1..=12).map(|i| format!("cam-{i:02}")).collect();
    let ids: Vec<&str> = devices.iter().map(String::as_str).collect();
    let f = fleet(ids.iter().map(|id| (*id, Script::succeeds_after(2)))).await;
    let id = f.start(
        CampaignSettings {
            concurrency: 3,
            ..settings()
        },
        &ids,
    );
    // A second process over the same data folder (the window and `otactl campaign start`, say).
    let other = f.h.restarted(fast_options());

    let (here, there) = tokio::time::timeout(
        HANG_GUARD,
        futures::future::join(
            runner::run(f.h.console.clone(), id),
            runner::run(other.clone(), id),
        ),
    )
    .await
    .expect("the runners hung");

    // Either may be the one that closes the campaign (or be turned away); neither may fail the devices.
    assert!(
        here.is_ok() || there.is_ok(),
        "both runners failed: {here:?} / {there:?}"
    );
    let view = f.h.console.store().campaign_view(id).unwrap();
    assert_eq!(view.state, CampaignState::Completed, "{:?}", view.reason);
    assert_eq!(view.counts.succeeded, 12);
    let starts = f.h.cloud.starts_by_device();
    assert!(starts.values().all(|&n| n == 1), "{starts:?}");
}

/// The runner is killed while two devices are updating and two wait; the next runner (a new process over
/// the same data folder) follows the two and starts only the two that never started.
#[test]
fn a_runner_killed_mid_campaign_is_followed_by_the_next_without_a_second_start() {
    let devices = ["cam-1", "cam-2", "cam-3", "cam-4"];
    let first_run = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (f, id) = first_run.block_on(async {
        let f = fleet(devices.map(|id| (id, Script::succeeds_after(3)))).await;
        // Updates hold mid-download until the restart, so the kill lands while they run.
        f.h.cloud.freeze(true);
        let id = f.start(
            CampaignSettings {
                concurrency: 2,
                ..settings()
            },
            &devices,
        );
        run_in_background(&f.h.console, id);
        let cloud = f.h.cloud.clone();
        wait_until("two devices started", || cloud.total_starts() == 2).await;
        (f, id)
    });
    drop(first_run);
    let left = f.h.console.store().campaign_view(id).unwrap();
    assert_eq!(
        (left.counts.in_flight, left.counts.pending),
        (2, 2),
        "killed with two in flight"
    );

    f.h.cloud.freeze(false);
    let second_run = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let done = second_run.block_on(async {
        let console = f.h.restarted(fast_options());
        run(&console, id).await
    });

    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, 4);
    let starts = f.h.cloud.starts_by_device();
    assert!(starts.values().all(|&n| n == 1), "{starts:?}");
}

// ---------------------------------------------------------------------------------------------------
// Campaign rules (issue 17): device timeout, verified success, bake, manual gate, approval, overlap.

use ota_core::campaign::model::{
    CampaignDeviceState, CampaignRules, CampaignWait, SkipReason, WaveGate,
};

impl Fleet {
    fn new_campaign(
        &self,
        settings: CampaignSettings,
        rules: CampaignRules,
        devices: &[&str],
    ) -> NewCampaign {
        NewCampaign {
            name: "Cameras to 2.0.0".into(),
            firmware_id: self.firmware_id,
            targets: CampaignTargets::Devices {
                devices: devices
                    .iter()
                    .map(|id| DeviceKey {
                        account_id: self.h.account.id,
                        device_id: id.to_string(),
                    })
                    .collect(),
            },
            settings,
            rules: Some(rules),
        }
    }

    /// Creates and starts a campaign with `rules`.
    fn start_with(
        &self,
        settings: CampaignSettings,
        rules: CampaignRules,
        devices: &[&str],
    ) -> i64 {
        let created = campaign::create(
            &self.h.console,
            &self.new_campaign(settings, rules, devices),
        )
        .expect("create the campaign");
        campaign::start(&self.h.console, created.id).expect("start the campaign");
        created.id
    }

    fn audit_actions(&self) -> Vec<(String, String)> {
        self.h
            .console
            .store()
            .audit_entries(200)
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.result))
            .collect()
    }
}

fn failure_message(row: &CampaignDeviceView) -> String {
    row.error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_still_in_progress_after_the_device_timeout_fails_as_timed_out() {
    let f = fleet([
        ("cam-stuck", Script::stuck()),
        ("cam-ok", Script::succeeds_after(2)),
    ])
    .await;
    let id = f.start_with(
        settings(),
        CampaignRules {
            device_timeout_secs: Some(1),
            ..CampaignRules::default()
        },
        &["cam-stuck", "cam-ok"],
    );

    let done = run(&f.h.console, id).await;

    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    let rows = f.rows(id);
    assert_eq!(rows["cam-ok"].state, CampaignDeviceState::Succeeded);
    let stuck = &rows["cam-stuck"];
    assert_eq!(
        stuck.state,
        CampaignDeviceState::Failed,
        "never stays in progress"
    );
    assert!(
        failure_message(stuck).starts_with("Timed out: still in progress 1s after its start"),
        "{stuck:?}"
    );
    assert!(
        f.audit_actions()
            .contains(&("campaign.device.timed_out".into(), "error".into())),
        "{:?}",
        f.audit_actions()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reported_success_without_the_new_version_fails_as_version_not_confirmed() {
    let f = fleet([
        ("cam-liar", Script::keeps_old_version(2)),
        ("cam-ok", Script::succeeds_after(2)),
    ])
    .await;
    // Verified success is on by default.
    let id = f.start_with(
        settings(),
        CampaignRules::default(),
        &["cam-liar", "cam-ok"],
    );

    let done = run(&f.h.console, id).await;

    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert!(done.rules.verify_version);
    let rows = f.rows(id);
    assert_eq!(rows["cam-ok"].state, CampaignDeviceState::Succeeded);
    let liar = &rows["cam-liar"];
    assert_eq!(liar.state, CampaignDeviceState::Failed);
    assert!(
        failure_message(liar).starts_with("Version not confirmed (reports 1.0.0)"),
        "{liar:?}"
    );
    // The cache moves with the campaign: the confirmed device shows the new version, the liar its old one.
    let cached = |device: &str| {
        let row = &rows[device];
        f.h.console
            .store()
            .device(row.account_id, device)
            .unwrap()
            .unwrap()
            .firmware
    };
    assert_eq!(cached("cam-ok"), TARGET);
    assert_ne!(cached("cam-liar"), TARGET);
    let dashboard = campaign::dashboard(&f.h.console, id).unwrap();
    assert!(dashboard.failures[0]
        .message
        .starts_with("Version not confirmed"));
    assert!(
        f.audit_actions().contains(&(
            "campaign.device.version_not_confirmed".into(),
            "error".into()
        )),
        "{:?}",
        f.audit_actions()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_verification_the_clouds_word_is_taken() {
    let f = fleet([("cam-liar", Script::keeps_old_version(2))]).await;
    let id = f.start_with(
        settings(),
        CampaignRules {
            verify_version: false,
            ..CampaignRules::default()
        },
        &["cam-liar"],
    );

    let done = run(&f.h.console, id).await;

    assert_eq!(
        done.counts.succeeded, 1,
        "--no-verify trusts the cloud's status"
    );
}

const FOUR: [&str; 4] = ["cam-1", "cam-2", "cam-3", "cam-4"];

/// The last moment a device of `devices` was reported finished.
fn last_finished(cloud: &FakeCloud, devices: &[&str]) -> std::time::Instant {
    cloud
        .events()
        .into_iter()
        .filter(|e| {
            devices.contains(&e.device.as_str()) && matches!(e.kind, EventKind::Finished { .. })
        })
        .map(|e| e.at)
        .max()
        .expect("the wave finished")
}

fn first_start(cloud: &FakeCloud, devices: &[&str]) -> std::time::Instant {
    cloud
        .events()
        .into_iter()
        .filter(|e| devices.contains(&e.device.as_str()) && e.kind == EventKind::Start)
        .map(|e| e.at)
        .min()
        .expect("the wave started")
}

/// The four cameras in waves of 50 and 100 % with a 1 s bake, run in the background until wave 1 bakes.
async fn baking_first_wave(f: &Fleet) -> (i64, Running) {
    let id = f.start_with(
        CampaignSettings {
            waves: vec![50.0, 100.0],
            ..settings()
        },
        CampaignRules {
            bake_secs: 1,
            ..CampaignRules::default()
        },
        &FOUR,
    );
    let running = run_in_background(&f.h.console, id);
    let console = f.h.console.clone();
    wait_until("wave 1 bakes", || {
        matches!(
            console.store().campaign_view(id).unwrap().waiting,
            Some(CampaignWait::Baking { wave: 0, .. })
        )
    })
    .await;
    (id, running)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baking_wave_holds_the_next_wave_until_its_bake_time_has_passed() {
    let f = fleet(FOUR.map(|id| (id, Script::succeeds_after(1)))).await;
    let bake = Duration::from_secs(1);
    // While wave 1 bakes the campaign says so, and wave 2 has not started.
    let (_, running) = baking_first_wave(&f).await;
    assert_eq!(f.h.cloud.starts("cam-3") + f.h.cloud.starts("cam-4"), 0);

    let done = ended(running).await;
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, 4);
    let cloud = &f.h.cloud;
    let waited =
        first_start(cloud, &["cam-3", "cam-4"]) - last_finished(cloud, &["cam-1", "cam-2"]);
    // A lower bound only (the bake is counted on the system clock, in whole milliseconds).
    assert!(
        waited + Duration::from_millis(20) >= bake,
        "wave 2 started {waited:?} after wave 1 ended, within its {bake:?} bake"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_rolled_back_during_the_bake_is_a_late_failure_and_the_next_wave_never_starts() {
    let f = fleet(FOUR.map(|id| (id, Script::succeeds_after(1)))).await;
    // Any failure share is within this campaign's threshold: only the bake's rule stops it.
    let (id, running) = baking_first_wave(&f).await;
    assert_eq!(f.rows(id)["cam-1"].state, CampaignDeviceState::Succeeded);

    f.h.cloud.roll_back("cam-1");
    let done = ended(running).await;

    assert_eq!(done.state, CampaignState::Aborted, "{:?}", done.reason);
    let reason = done.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("at the end of its 1s bake (a late failure)")
            && reason.contains("later waves were not started"),
        "{reason}"
    );
    let rows = f.rows(id);
    assert_eq!(rows["cam-1"].state, CampaignDeviceState::Failed);
    assert!(
        failure_message(&rows["cam-1"])
            .starts_with("Version not confirmed after the bake (reports 1.0.0)"),
        "{:?}",
        rows["cam-1"]
    );
    assert_eq!(rows["cam-2"].state, CampaignDeviceState::Succeeded);
    assert_eq!(f.h.cloud.starts("cam-3") + f.h.cloud.starts("cam-4"), 0);
    let audit = f.audit_actions();
    assert!(
        audit.contains(&(
            "campaign.device.version_not_confirmed".into(),
            "error".into()
        )) && audit.contains(&("campaign.aborted".into(), "error".into())),
        "{audit:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_manual_gate_the_next_wave_waits_for_approve_wave() {
    let f = fleet(FOUR.map(|id| (id, Script::succeeds_after(1)))).await;
    let id = f.start_with(
        CampaignSettings {
            waves: vec![50.0, 100.0],
            ..settings()
        },
        CampaignRules {
            gate: WaveGate::Manual,
            ..CampaignRules::default()
        },
        &FOUR,
    );
    let running = run_in_background(&f.h.console, id);

    let console = f.h.console.clone();
    wait_until("wave 2 awaits approval", || {
        console.store().campaign_view(id).unwrap().waiting
            == Some(CampaignWait::AwaitingWaveApproval { wave: 1 })
    })
    .await;
    // Many runner rounds later (a round is at most 250 ms apart, 20 ms here), still nothing of wave 2
    // has started.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.h.cloud.starts("cam-3") + f.h.cloud.starts("cam-4"), 0);
    assert_eq!(
        f.h.console.store().campaign_view(id).unwrap().state,
        CampaignState::Running
    );

    let approved = campaign::approve_wave(&f.h.console, id).expect("approve wave 2");
    assert_eq!(approved.wave_approved, 1);
    let done = ended(running).await;
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, 4);
    assert!(f
        .audit_actions()
        .contains(&("campaign.approve_wave".into(), "ok".into())));
    // The last wave has no next one to approve.
    let err = campaign::approve_wave(&f.h.console, id).unwrap_err();
    assert_eq!(err.code, ErrorKind::Conflict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_flight_leaves_out_devices_of_another_active_campaign() {
    let f = fleet(["cam-1", "cam-2", "cam-3"].map(|id| (id, Script::succeeds_after(1)))).await;
    let first = campaign::create(
        &f.h.console,
        &f.new_campaign(settings(), CampaignRules::default(), &["cam-1", "cam-2"]),
    )
    .expect("create the first campaign");

    let check = campaign::preflight(
        &f.h.console,
        &f.new_campaign(settings(), CampaignRules::default(), &["cam-2", "cam-3"]),
    )
    .expect("pre-flight");

    assert_eq!(check.eligible, 1);
    assert_eq!(check.excluded.len(), 1);
    let left_out = &check.excluded[0];
    assert_eq!(
        (left_out.device_id.as_str(), left_out.reason),
        ("cam-2", SkipReason::InCampaign)
    );
    assert_eq!(left_out.detail, format!("in campaign {}", first.id));

    // Once that campaign is cancelled (nothing of it in flight), the device is free again.
    campaign::cancel(&f.h.console, first.id).expect("cancel");
    let check = campaign::preflight(
        &f.h.console,
        &f.new_campaign(settings(), CampaignRules::default(), &["cam-2", "cam-3"]),
    )
    .expect("pre-flight");
    assert_eq!(check.eligible, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_requiring_approval_is_refused_to_its_creator_and_runs_once_another_user_approved(
) {
    let f = fleet([("cam-1", Script::succeeds_after(1))]).await;
    let creator = f.h.console.actor().to_string();
    let created = campaign::create(
        &f.h.console,
        &f.new_campaign(
            settings(),
            CampaignRules {
                require_approval: true,
                ..CampaignRules::default()
            },
            &["cam-1"],
        ),
    )
    .expect("create");
    let id = created.id;
    assert_eq!(created.state, CampaignState::AwaitingApproval);
    assert_eq!(created.waiting, Some(CampaignWait::AwaitingApproval));

    let err = campaign::start(&f.h.console, id).unwrap_err();
    assert_eq!(err.code, ErrorKind::Conflict);
    assert!(err.message.contains("awaiting approval"), "{err:?}");
    let err = campaign::approve(&f.h.console, id).unwrap_err();
    assert_eq!(err.code, ErrorKind::Conflict);
    assert!(
        err.message
            .contains(&format!("You ({creator}) created campaign #{id}"))
            && err.message.contains("approved by another user"),
        "{err:?}"
    );
    assert_eq!(f.h.cloud.total_starts(), 0);

    let colleague = f.h.as_user("colleague-bob");
    let approved = campaign::approve(&colleague, id).expect("another user approves");
    assert_eq!(approved.state, CampaignState::Ready);
    assert_eq!(approved.approved_by.as_deref(), Some("colleague-bob"));
    assert!(campaign::approve(&colleague, id).is_err(), "approved once");

    campaign::start(&f.h.console, id).expect("start after approval");
    let done = run(&f.h.console, id).await;
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, 1);
    let approvals: Vec<(String, String)> =
        f.h.console
            .store()
            .audit_entries(200)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "campaign.approve")
            .map(|e| (e.actor, e.result))
            .collect();
    assert!(
        approvals.contains(&(creator.clone(), "error".into())),
        "{approvals:?}"
    );
    assert!(
        approvals.contains(&("colleague-bob".into(), "ok".into())),
        "{approvals:?}"
    );
}

/// What a runner told its host (`otactl serve`'s metrics and log).
#[derive(Default)]
struct Told(std::sync::Mutex<Vec<String>>);

impl runner::CampaignObserver for Told {
    fn lease_taken(&self, _: i64, previous: Option<&ota_core::campaign::model::CampaignLease>) {
        let what = if previous.is_some() {
            "took over"
        } else {
            "lease"
        };
        self.0.lock().unwrap().push(what.into());
    }
    fn device_started(&self, _: i64, _: ota_core::Cloud) {
        self.0.lock().unwrap().push("started".into());
    }
    fn device_failed(&self, _: i64, _: ota_core::Cloud, kind: ErrorKind) {
        self.0
            .lock()
            .unwrap()
            .push(format!("failed {}", kind.as_str()));
    }
}

/// Told to stop (`otactl serve` on SIGTERM), a runner starts nothing more, leaves the devices still
/// updating in flight (their reads end at the next wait), releases its lease at once and returns with the
/// campaign running; the next runner follows those devices and starts only those never started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_runner_starts_nothing_more_and_releases_its_lease_for_the_next() {
    let devices = ["cam-1", "cam-2", "cam-3", "cam-4"];
    let f = fleet(devices.map(|d| (d, Script::succeeds_after(40)))).await;
    let id = f.start(
        CampaignSettings {
            concurrency: 2,
            ..settings()
        },
        &devices,
    );
    let told = Arc::new(Told::default());
    let control = runner::RunnerControl {
        program: Some("otactl serve edge-1".into()),
        observer: Some(told.clone()),
        ..runner::RunnerControl::default()
    };
    let running = {
        let (console, control) = (f.h.console.clone(), control.clone());
        tokio::spawn(async move { runner::run_with(console, id, &control).await })
    };
    wait_until("two cameras started and recorded", || {
        told.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| *e == "started")
            .count()
            == 2
    })
    .await;
    let lease = campaign::run_by(&f.h.console, id).unwrap().expect("held");
    assert_eq!(lease.program, "otactl serve edge-1");

    control.stop.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(2), running)
        .await
        .expect("stopped promptly")
        .expect("runner task")
        .expect("runner");
    assert_eq!(
        stopped.state,
        CampaignState::Running,
        "left for another runner"
    );
    assert_eq!(
        campaign::run_by(&f.h.console, id).unwrap(),
        None,
        "released"
    );
    let rows = f.rows(id);
    let state = |d: &str| rows[d].state.as_str();
    assert_eq!(
        devices.map(state),
        ["running", "running", "pending", "pending"],
        "the two updating stay in flight, the two waiting were never started"
    );
    assert_eq!(f.h.cloud.total_starts(), 2);
    assert_eq!(*told.0.lock().unwrap(), ["lease", "started", "started"]);

    // The next runner takes the free lease (no takeover), follows the two and starts the other two.
    let next = Arc::new(Told::default());
    let control = runner::RunnerControl {
        observer: Some(next.clone()),
        ..runner::RunnerControl::default()
    };
    let done = tokio::time::timeout(
        HANG_GUARD,
        runner::run_with(f.h.restarted(fast_options()), id, &control),
    )
    .await
    .expect("the next runner hung")
    .expect("runner");
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, 4);
    let starts = f.h.cloud.starts_by_device();
    assert!(starts.values().all(|&n| n == 1), "{starts:?}");
    assert_eq!(*next.0.lock().unwrap(), ["lease", "started", "started"]);
    assert!(!f
        .audit_actions()
        .iter()
        .any(|(action, _)| action == "campaign.takeover"));
}
