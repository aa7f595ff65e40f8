//! Campaigns against the simulator, through the same engine the window and `otactl` run:
//! - 2 000 cameras in three waves with 2 % injected failures complete, and every count reconciles exactly
//!   with the simulator's own record of update starts;
//! - 20 % failures in wave 1 abort the campaign before wave 2 starts a single device;
//! - a Quectel campaign confirms each device's plan once and follows it to the end;
//! - the firmware library stores identical bytes once and refuses to delete a package a campaign uses.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use common::{account_of, fault, fleet, sandbox_console_scaled, sim_get};
use ota_core::campaign::model::{
    CampaignDeviceQuery, CampaignDeviceState, CampaignSettings, CampaignState, CampaignTargets,
    CampaignView, DeviceKey, NewCampaign, SkipReason,
};
use ota_core::campaign::{self, runner};
use ota_core::library::{self, NewFirmware};
use ota_core::{Account, Cloud, Console, DeviceQuery, ErrorKind};
use serde_json::json;

const TIME_SCALE: f64 = 400.0;

struct Sandbox {
    sim: ota_sim::SimHandle,
    _data: tempfile::TempDir,
    console: Arc<Console>,
    accounts: Vec<Account>,
}

async fn sandbox(devices: usize, seed: u64) -> Sandbox {
    let sim = common::sim(devices, seed, TIME_SCALE).await;
    let data = tempfile::tempdir().unwrap();
    let (console, accounts) = sandbox_console_scaled(&sim, data.path(), TIME_SCALE).await;
    Sandbox {
        sim,
        _data: data,
        console,
        accounts,
    }
}

/// A campaign named `name` updating exactly `devices` to `firmware_id`.
fn on_devices(
    name: &str,
    firmware_id: i64,
    devices: &[DeviceKey],
    settings: CampaignSettings,
) -> NewCampaign {
    NewCampaign {
        name: name.into(),
        firmware_id,
        targets: CampaignTargets::Devices {
            devices: devices.to_vec(),
        },
        settings,
        rules: None,
    }
}

impl Sandbox {
    fn account(&self, cloud: Cloud) -> &Account {
        account_of(&self.accounts, cloud)
    }

    /// The cached devices of `cloud`.
    fn cached(&self, cloud: Cloud) -> Vec<ota_core::Device> {
        self.console
            .store()
            .matching_devices(&DeviceQuery {
                cloud: Some(cloud),
                ..Default::default()
            })
            .unwrap()
    }

    /// Creates the campaign, starts it and runs it to its end: (the campaign as created, as ended).
    async fn run(&self, new: &NewCampaign) -> (CampaignView, CampaignView) {
        let created = campaign::create(&self.console, new).unwrap();
        campaign::start(&self.console, created.id).unwrap();
        let done = runner::run(self.console.clone(), created.id).await.unwrap();
        (created, done)
    }

    /// Adds a small package to the library and publishes it to the sandbox cloud.
    async fn firmware(&self, cloud: Cloud, version: &str, model: Option<&str>) -> i64 {
        let file = self._data.path().join(format!("fw-{version}.bin"));
        std::fs::write(&file, vec![7u8; 256 * 1024]).unwrap();
        let added = library::add_firmware(
            &self.console,
            &NewFirmware {
                path: file.display().to_string(),
                version: version.into(),
                cloud,
                model: model.map(str::to_string),
                notes: None,
            },
        )
        .unwrap();
        library::publish_firmware(self.console.clone(), added.entry.id, self.account(cloud).id)
            .await
            .unwrap();
        added.entry.id
    }

    /// Publishes a camera package of `version` and picks `n` cameras that can take it (asserting the
    /// fleet has that many): (the firmware's id, the cameras).
    async fn camera_update(&self, version: &str, n: usize) -> (i64, Vec<DeviceKey>) {
        let firmware = self.firmware(Cloud::Vicohome, version, None).await;
        let targets = self.eligible(Cloud::Vicohome, version, n);
        assert_eq!(targets.len(), n, "the fleet has {n} eligible cameras");
        (firmware, targets)
    }

    /// The simulator's record: accepted starts per device of `cloud`.
    async fn starts(&self, cloud: &str) -> BTreeMap<String, u64> {
        let all = sim_get(&self.sim, "/_sim/starts").await;
        all[cloud]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Up to `n` cached devices of `cloud` that can take an update (online, charged, not on `version`).
    fn eligible(&self, cloud: Cloud, version: &str, n: usize) -> Vec<DeviceKey> {
        let devices = self
            .console
            .store()
            .matching_devices(&DeviceQuery {
                cloud: Some(cloud),
                ..Default::default()
            })
            .unwrap();
        devices
            .into_iter()
            .filter(|d| d.online && d.battery.unwrap_or(100) >= 20 && d.firmware != version)
            .filter(|d| d.transport.as_deref() != Some("ble"))
            .take(n)
            .map(|d| DeviceKey {
                account_id: d.account_id,
                device_id: d.id,
            })
            .collect()
    }

    async fn fail_installs(&self, devices: &[&DeviceKey]) {
        for d in devices {
            let once = json!({"kind": "install_fail", "target": d.device_id, "count": 1});
            fault(&self.sim, once).await;
        }
    }
}

fn settings(concurrency: u32, threshold: f64) -> CampaignSettings {
    CampaignSettings {
        waves: vec![1.0, 10.0, 100.0],
        concurrency,
        requests_per_second: 2_000.0,
        failure_threshold_percent: threshold,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_cameras_in_three_waves_complete_and_reconcile_with_the_simulator() {
    let sb = sandbox(7_000, 61).await;
    let (firmware, targets) = sb.camera_update("9.0.0", 2_000).await;
    // 2 %: every 50th device, so each wave stays under its 10 % threshold.
    let doomed: Vec<&DeviceKey> = targets.iter().step_by(50).collect();
    assert_eq!(doomed.len(), 40);
    sb.fail_installs(&doomed).await;

    let new = on_devices("Cameras to 9.0.0", firmware, &targets, settings(200, 10.0));
    let preflight = campaign::preflight(&sb.console, &new).unwrap();
    assert_eq!(preflight.eligible, 2_000);
    assert_eq!(preflight.wave_sizes, vec![20, 180, 1_800]);
    let (created, done) = sb.run(&new).await;

    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, 1_960);
    assert_eq!(done.counts.failed, 40);
    assert_eq!(done.counts.open(), 0);

    // The simulator's own record: every campaign device started exactly once, nothing else started.
    let starts = sb.starts("vicohome").await;
    let wanted: HashSet<&str> = targets.iter().map(|d| d.device_id.as_str()).collect();
    let started: HashSet<&str> = starts.keys().map(String::as_str).collect();
    assert_eq!(started, wanted);
    assert!(
        starts.values().all(|&n| n == 1),
        "a device was started twice"
    );
    assert_eq!(
        starts.values().sum::<u64>(),
        u64::from(done.counts.succeeded + done.counts.failed)
    );

    // The failures are exactly the doomed devices, grouped under the catalogue's message.
    let failed = campaign::devices(
        &sb.console,
        created.id,
        &CampaignDeviceQuery {
            state: Some(CampaignDeviceState::Failed),
            limit: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    let failed: HashSet<&str> = failed.rows.iter().map(|r| r.device_id.as_str()).collect();
    let doomed_ids: HashSet<&str> = doomed.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(failed, doomed_ids);
    let dashboard = campaign::dashboard(&sb.console, created.id).unwrap();
    assert_eq!(dashboard.failures.len(), 1, "{:?}", dashboard.failures);
    assert_eq!(dashboard.failures[0].count, 40);
    assert_eq!(dashboard.failures[0].vendor_code.as_deref(), Some("-10402"));
    assert!((dashboard.success_percent - 98.0).abs() < 1e-9);
    assert!(dashboard.waves.iter().all(|w| w.counts.open() == 0));
    assert!(!dashboard.history.is_empty());

    // And the cameras that succeeded run the new firmware, as the simulator sees them.
    let on_new = fleet(&sb.sim)
        .await
        .iter()
        .filter(|d| wanted.contains(d["id"].as_str().unwrap()) && d["firmware"] == "9.0.0")
        .count();
    assert_eq!(on_new, 1_960);

    // Every start is in the audit log.
    let audited = sb
        .console
        .store()
        .audit_query(&ota_core::store::AuditQuery {
            action: Some("campaign.device.start".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audited.len(), 2_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_percent_failures_in_wave_one_abort_before_wave_two() {
    let sb = sandbox(7_000, 62).await;
    let (firmware, targets) = sb.camera_update("9.1.0", 2_000).await;
    // Wave 1 is the first 20 devices; 4 of them (20 %) fail.
    let doomed: Vec<&DeviceKey> = targets[..20].iter().step_by(5).collect();
    assert_eq!(doomed.len(), 4);
    sb.fail_installs(&doomed).await;

    let new = on_devices("Aborts", firmware, &targets, settings(100, 10.0));
    let (created, done) = sb.run(&new).await;

    assert_eq!(done.state, CampaignState::Aborted);
    assert_eq!(done.current_wave, 0);
    assert_eq!((done.counts.succeeded, done.counts.failed), (16, 4));
    assert_eq!(done.counts.pending, 1_980, "later waves never started");
    let reason = done.reason.unwrap();
    assert!(
        reason.contains("Wave 1 of 3") && reason.contains("4 of 20"),
        "{reason}"
    );

    let starts = sb.starts("vicohome").await;
    let wave_one: HashSet<&str> = targets[..20].iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(
        starts.keys().map(String::as_str).collect::<HashSet<_>>(),
        wave_one,
        "only wave 1 was started"
    );
    assert!(starts.values().all(|&n| n == 1));

    // Resuming is refused; retrying the failed devices is the way on (they are started again once).
    assert_eq!(
        campaign::resume(&sb.console, created.id).unwrap_err().code,
        ErrorKind::Conflict
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quectel_campaign_confirms_each_plan_once_and_leaves_bluetooth_devices_out() {
    let sb = sandbox(400, 63).await;
    let devices = sb.cached(Cloud::Quectel);
    let model = devices
        .iter()
        .find(|d| d.transport.as_deref() == Some("mqtt"))
        .unwrap()
        .model
        .clone();
    let firmware = sb.firmware(Cloud::Quectel, "5.0.0", Some(&model)).await;
    let new = NewCampaign {
        name: "Plugs".into(),
        firmware_id: firmware,
        targets: CampaignTargets::Filter {
            query: DeviceQuery {
                cloud: Some(Cloud::Quectel),
                ..Default::default()
            },
        },
        settings: CampaignSettings {
            waves: vec![50.0, 100.0],
            concurrency: 20,
            requests_per_second: 500.0,
            ..Default::default()
        },
        rules: None,
    };
    let preflight = campaign::preflight(&sb.console, &new).unwrap();
    let reasons: Vec<SkipReason> = preflight.by_reason.iter().map(|r| r.reason).collect();
    assert!(reasons.contains(&SkipReason::WrongModel), "{reasons:?}");
    assert!(preflight.eligible > 0);
    let (_, done) = sb.run(&new).await;
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.succeeded, preflight.eligible);
    assert!(
        done.rules.verify_version,
        "verified success is on by default"
    );
    let starts = sb.starts("quectel").await;
    assert_eq!(starts.len() as u32, preflight.eligible);
    assert!(starts.values().all(|&n| n == 1));
}

/// What a campaign asks the cloud about `device` when updating it to `version`.
fn target_of(device: &ota_core::Device, version: &str) -> ota_core::cloud::UpdateTarget {
    ota_core::cloud::UpdateTarget {
        device_id: device.id.clone(),
        product_key: device.product_key.clone(),
        model: device.model.clone(),
        version: version.into(),
        size: 0,
        md5: String::new(),
    }
}

/// Verified success on Quectel reads the account's device list (the end-user API has no per-device read):
/// devices asking at once share reads instead of costing one whole listing each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quectel_version_reads_asked_at_once_share_the_device_list() {
    let sb = sandbox(400, 65).await;
    let devices = sb.cached(Cloud::Quectel);
    assert!(devices.len() >= 20, "{} Quectel devices", devices.len());
    let session = sb.console.session(sb.account(Cloud::Quectel)).unwrap();
    let updates = session.fleet_updates().unwrap();
    let list = "/v2/binding/enduserapi/userDeviceList";
    let pages_so_far = || async { common::logged(&sb.sim, list).await.len() };
    let before = pages_so_far().await;
    let alone = updates
        .reported_version(&target_of(&devices[0], "9.9.9"))
        .await
        .unwrap();
    assert_eq!(alone.as_deref(), Some(devices[0].firmware.as_str()));
    let one_listing = pages_so_far().await - before;
    assert!(one_listing >= 1);

    let before = pages_so_far().await;
    let reads = futures::future::join_all(
        devices
            .iter()
            .take(20)
            .map(|d| async move { updates.reported_version(&target_of(d, "9.9.9")).await }),
    )
    .await;
    for (read, device) in reads.into_iter().zip(&devices) {
        assert_eq!(read.unwrap().as_deref(), Some(device.firmware.as_str()));
    }
    let pages = pages_so_far().await - before;
    // The first caller's read, then one read begun after every other caller asked: never one each.
    assert!(
        pages <= 2 * one_listing,
        "{pages} page requests for 20 version reads ({one_listing} a listing)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_stores_bytes_once_and_keeps_packages_campaigns_use() {
    let sb = sandbox(200, 64).await;
    let file = sb._data.path().join("cam.bin");
    std::fs::write(&file, b"camera firmware bytes").unwrap();
    let add = |version: &str, model: Option<&str>| {
        library::add_firmware(
            &sb.console,
            &NewFirmware {
                path: file.display().to_string(),
                version: version.into(),
                cloud: Cloud::Vicohome,
                model: model.map(str::to_string),
                notes: Some("night build".into()),
            },
        )
        .unwrap()
    };
    let first = add("3.0.0", None);
    assert!(first.created && !first.deduplicated);
    let again = add("3.0.0", None);
    assert!(!again.created, "the same entry is not added twice");
    assert_eq!(again.entry.id, first.entry.id);
    let other = add("3.0.0", Some("CG1"));
    assert!(
        other.created && other.deduplicated,
        "same bytes, stored once"
    );
    let stored: Vec<_> = std::fs::read_dir(library::library_dir(&sb.console.data_dir()))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(stored.len(), 1);

    // A real account's cloud would say where to publish instead; the sandbox publishes.
    library::publish_firmware(
        sb.console.clone(),
        first.entry.id,
        sb.account(Cloud::Vicohome).id,
    )
    .await
    .unwrap();
    let targets = sb.eligible(Cloud::Vicohome, "3.0.0", 3);
    let keeps = on_devices(
        "Keeps its firmware",
        first.entry.id,
        &targets,
        settings(5, 10.0),
    );
    let created = campaign::create(&sb.console, &keeps).unwrap();
    let refused = library::delete_firmware(&sb.console, first.entry.id).unwrap_err();
    assert_eq!(refused.code, ErrorKind::Conflict);
    // The other entry sharing the bytes can go; the file stays for the first.
    library::delete_firmware(&sb.console, other.entry.id).unwrap();
    assert!(library::stored_package(&sb.console, &first.entry)
        .unwrap()
        .exists());
    campaign::cancel(&sb.console, created.id).unwrap();
    campaign::delete(&sb.console, created.id).unwrap();
    library::delete_firmware(&sb.console, first.entry.id).unwrap();
    assert!(!library::stored_package(&sb.console, &first.entry)
        .unwrap()
        .exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_onenet_campaign_creates_one_task_per_device_and_follows_the_devices_to_the_end() {
    let sb = sandbox(300, 65).await;
    let firmware = sb.firmware(Cloud::Onenet, "V9.9", None).await;
    let targets = sb.eligible(Cloud::Onenet, "V9.9", 12);
    assert!(targets.len() >= 6, "{} OneNET devices", targets.len());
    // One device fails while upgrading: its task fails with the result code it reported.
    sb.fail_installs(&[&targets[0]]).await;
    let settings = CampaignSettings {
        waves: vec![50.0, 100.0],
        concurrency: 8,
        requests_per_second: 500.0,
        failure_threshold_percent: 50.0,
        ..Default::default()
    };
    let (created, done) = sb
        .run(&on_devices("Meters", firmware, &targets, settings))
        .await;
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!(done.counts.failed, 1);
    assert_eq!(done.counts.succeeded as usize, targets.len() - 1);
    let failures = campaign::dashboard(&sb.console, created.id)
        .unwrap()
        .failures;
    assert_eq!(failures[0].vendor_code.as_deref(), Some("result 206"));
    assert!(
        failures[0].message.contains("Upgrade failed"),
        "{}",
        failures[0].message
    );
    let starts = sb.starts("onenet").await;
    assert_eq!(starts.len(), targets.len());
    assert!(starts.values().all(|&n| n == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_starts_outside_the_maintenance_window_and_failed_devices_are_retried_by_policy() {
    let sb = sandbox(400, 66).await;
    let (firmware, targets) = sb.camera_update("9.2.0", 6).await;
    // A window that opened and closed an hour ago (UTC): closed now, whatever the day.
    let now_minute = (ota_core::now_ms() / 60_000 % 1_440) as u16;
    let closed = ota_core::campaign::model::MaintenanceWindow {
        days: vec![],
        start_minute: (now_minute + 1_440 - 120) % 1_440,
        end_minute: (now_minute + 1_440 - 60) % 1_440,
        utc_offset_minutes: 0,
    };
    let mut settings = settings(6, 50.0);
    settings.waves = vec![100.0];
    settings.window = Some(closed);
    let night_only = on_devices("Night only", firmware, &targets, settings);
    let waiting = campaign::create(&sb.console, &night_only).unwrap();
    campaign::start(&sb.console, waiting.id).unwrap();
    let runner = tokio::spawn(runner::run(sb.console.clone(), waiting.id));
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert!(
        sb.starts("vicohome").await.is_empty(),
        "nothing started outside the window"
    );
    let dashboard = campaign::dashboard(&sb.console, waiting.id).unwrap();
    let opens = dashboard
        .window_opens_at
        .expect("the dashboard says when it opens");
    assert!(
        opens > ota_core::now_ms() + 20 * 3_600_000,
        "opens tomorrow: {opens}"
    );
    let cancelled = campaign::cancel(&sb.console, waiting.id).unwrap();
    assert_eq!(cancelled.counts.cancelled, 6);
    let ended = runner.await.unwrap().unwrap();
    assert_eq!(ended.state, CampaignState::Cancelled);

    // Retry policy: a device whose install fails once is retried (device errors included) and succeeds.
    let doomed = &targets[0];
    sb.fail_installs(&[doomed]).await;
    let mut settings = settings_for_retry();
    settings.retry.max_retries = 1;
    settings.retry.backoff_secs = 0;
    settings.retry.retry_on = vec![ErrorKind::Device];
    let (retried, done) = sb
        .run(&on_devices("Retries", firmware, &targets, settings))
        .await;
    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    assert_eq!((done.counts.succeeded, done.counts.failed), (6, 0));
    let starts = sb.starts("vicohome").await;
    assert_eq!(starts[&doomed.device_id], 2, "one retry after the failure");
    assert!(targets[1..].iter().all(|d| starts[&d.device_id] == 1));
    let page = campaign::devices(&sb.console, retried.id, &CampaignDeviceQuery::default()).unwrap();
    let row = page
        .rows
        .iter()
        .find(|r| r.device_id == doomed.device_id)
        .unwrap();
    assert_eq!(row.attempts, 2);
}

fn settings_for_retry() -> CampaignSettings {
    CampaignSettings {
        waves: vec![100.0],
        concurrency: 6,
        requests_per_second: 500.0,
        failure_threshold_percent: 50.0,
        ..Default::default()
    }
}
