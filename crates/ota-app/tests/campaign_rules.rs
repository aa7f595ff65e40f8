//! Campaign rules against the simulator, through the use-case layer `otactl` and the window call: a
//! camera the simulator leaves "in progress" forever fails as timed out (device timeout), and a camera
//! whose update the cloud calls complete while it keeps its old firmware fails as "version not confirmed"
//! (verified success, on by default). The rest of the campaign completes, each camera started once.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ota_app::audit::AuditQuery;
use ota_app::campaigns::{
    CampaignDeviceQuery, CampaignDeviceState, CampaignRules, CampaignSettings, CampaignStart,
    CampaignState, NewCampaign, TargetSpec,
};
use ota_app::firmware::{FirmwareDetails, PublishTo};
use ota_app::{App, Cloud, Launcher};
use serde_json::json;

/// The version the test publishes (no simulated camera runs it).
const VERSION: &str = "9.9.9";

async fn simulator() -> ota_sim::SimHandle {
    common::simulator(11).await
}

async fn open(data: &std::path::Path, sim: &ota_sim::SimHandle) -> Arc<App> {
    common::open_app(data, sim, Launcher::Cli, None)
        .await
        .expect("open the app")
}

async fn fault(sim: &ota_sim::SimHandle, kind: &str, target: &str) {
    let answer = reqwest::Client::new()
        .post(format!("{}/_sim/faults", sim.url()))
        .json(&json!({ "kind": kind, "target": target }))
        .send()
        .await
        .expect("the admin API answers");
    assert!(answer.status().is_success(), "{kind}: {answer:?}");
}

async fn starts(sim: &ota_sim::SimHandle) -> BTreeMap<String, u64> {
    let all: serde_json::Value = reqwest::get(format!("{}/_sim/starts", sim.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    all["vicohome"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_camera_stuck_in_progress_times_out_and_one_keeping_its_version_is_not_confirmed() {
    let sim = simulator().await;
    let data = tempfile::tempdir().unwrap();
    let app = open(data.path(), &sim).await;

    // A package the sandbox cloud then offers to every camera.
    let file = data.path().join("cam-9.9.9.bin");
    std::fs::write(&file, vec![7u8; 256 * 1024]).unwrap();
    let added = app
        .add_firmware(
            file,
            FirmwareDetails {
                version: VERSION.into(),
                cloud: Cloud::Vicohome,
                model: None,
                notes: None,
            },
        )
        .await
        .expect("add the firmware");
    app.publish_firmware(added.entry.id, PublishTo::OnlyOneInScope)
        .await
        .expect("publish it to the sandbox");
    let cameras: Vec<_> = app
        .list_fleet(String::new(), Some(Cloud::Vicohome), true)
        .await
        .unwrap()
        .devices
        .into_iter()
        .filter(|d| {
            d.online
                && d.battery.unwrap_or(100) >= 50
                && d.newest_firmware.as_deref() == Some(VERSION)
        })
        .take(3)
        .collect();
    assert_eq!(cameras.len(), 3, "the fleet has three cameras to update");
    let (stuck, unchanged, fine) = (&cameras[0], &cameras[1], &cameras[2]);
    fault(&sim, "stuck_in_progress", &stuck.id).await;
    fault(&sim, "version_unchanged", &unchanged.id).await;

    let (targets, _) = app
        .campaign_targets(
            TargetSpec::Ids(cameras.iter().map(|d| d.id.clone()).collect()),
            Some(Cloud::Vicohome),
        )
        .await
        .unwrap();
    let created = app
        .create_campaign(&NewCampaign {
            name: "rules".into(),
            firmware_id: added.entry.id,
            targets,
            settings: CampaignSettings {
                waves: vec![100.0],
                failure_threshold_percent: 100.0,
                requests_per_second: 200.0,
                ..Default::default()
            },
            rules: Some(CampaignRules {
                device_timeout_secs: Some(2),
                ..CampaignRules::default()
            }),
        })
        .expect("create the campaign");
    assert!(
        created.rules.verify_version,
        "verified success is the default"
    );
    assert!(matches!(
        app.start_campaign(created.id).await.unwrap(),
        CampaignStart::Running(_)
    ));
    let done = tokio::time::timeout(Duration::from_secs(120), app.run_campaign(created.id))
        .await
        .expect("the campaign ends")
        .expect("the runner");

    assert_eq!(done.state, CampaignState::Completed, "{:?}", done.reason);
    let rows: BTreeMap<String, _> = app
        .campaign_devices(created.id, &CampaignDeviceQuery::default())
        .unwrap()
        .rows
        .into_iter()
        .map(|r| (r.device_id.clone(), r))
        .collect();
    let outcome = |id: &str| {
        let row = &rows[id];
        (
            row.state,
            row.error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
        )
    };
    let (state, message) = outcome(&stuck.id);
    assert_eq!(
        state,
        CampaignDeviceState::Failed,
        "never stays in progress"
    );
    assert!(
        message.starts_with("Timed out: still in progress 2s"),
        "{message}"
    );
    let (state, message) = outcome(&unchanged.id);
    assert_eq!(state, CampaignDeviceState::Failed);
    assert!(
        message.starts_with(&format!(
            "Version not confirmed (reports {})",
            unchanged.firmware
        )),
        "{message}"
    );
    assert_eq!(outcome(&fine.id).0, CampaignDeviceState::Succeeded);
    let started = starts(&sim).await;
    for camera in &cameras {
        assert_eq!(
            started.get(&camera.id),
            Some(&1),
            "{} started once",
            camera.id
        );
    }

    // The dashboard groups both failures by what went wrong; the audit log names each rule.
    let dashboard = app.campaign_dashboard(created.id).unwrap();
    assert_eq!(dashboard.failures.len(), 2, "{:?}", dashboard.failures);
    let audit = app
        .audit(&AuditQuery {
            action: Some("campaign.device.".into()),
            ..Default::default()
        })
        .unwrap();
    for action in [
        "campaign.device.timed_out",
        "campaign.device.version_not_confirmed",
    ] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.result == "error"),
            "{action}: {audit:?}"
        );
    }
}
