//! The use-case layer against the simulator, as the window and `otactl` call it: start-or-follow, who may
//! begin work beside an open window, which accounts a command acts on, and the empty-cache rule.

mod common;

use std::sync::Arc;
use std::time::Duration;

use ota_app::vicohome::StartKind;
use ota_app::{App, Cloud, Device, ErrorKind, Launcher};

async fn simulator() -> ota_sim::SimHandle {
    common::simulator(7).await
}

async fn open(
    data: &std::path::Path,
    sim: &ota_sim::SimHandle,
    launcher: Launcher,
    account: Option<&str>,
) -> Result<Arc<App>, ota_app::ApiError> {
    common::open_app(data, sim, launcher, account).await
}

/// An online camera with newer firmware to install.
async fn camera_to_update(app: &App) -> Device {
    app.list_fleet(String::new(), Some(Cloud::Vicohome), false)
        .await
        .unwrap()
        .devices
        .into_iter()
        .find(|d| {
            d.online
                && d.battery.unwrap_or(100) >= 50
                && d.newest_firmware
                    .as_deref()
                    .is_some_and(|v| v != d.firmware)
        })
        .expect("the fleet has a camera behind its newest firmware")
}

async fn vicohome_starts(sim: &ota_sim::SimHandle, serial: &str) -> u64 {
    let all: serde_json::Value = reqwest::get(format!("{}/_sim/starts", sim.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    all["vicohome"][serial].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_start_of_a_camera_follows_the_first_and_the_cloud_sees_one_start() {
    let sim = simulator().await;
    let data = tempfile::tempdir().unwrap();
    let app = open(data.path(), &sim, Launcher::Window, None)
        .await
        .unwrap();
    let camera = camera_to_update(&app).await;

    let (first, how) = app
        .start_vicohome_update(Some(camera.account_id), &camera.id, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(how, StartKind::Started);
    let (second, how) = app
        .start_vicohome_update(None, &camera.id, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(how, StartKind::AlreadyRunning, "the second request follows");
    assert_eq!(second.first.id, first.first.id, "the same job");

    let mut updates = second.updates;
    let mut last = second.first;
    let followed = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(view) = updates.recv().await {
            assert!(
                view.percent >= last.percent,
                "progress never runs backwards"
            );
            last = view;
        }
    })
    .await;
    assert!(followed.is_ok(), "the update ends within a minute");
    assert_eq!(last.state, ota_app::jobs::JobState::Succeeded, "{last:?}");
    assert_eq!(vicohome_starts(&sim, &camera.id).await, 1, "started once");
}

#[tokio::test(flavor = "multi_thread")]
async fn otactl_begins_no_update_while_a_window_has_the_folder_open() {
    let sim = simulator().await;
    let data = tempfile::tempdir().unwrap();
    let cli = open(data.path(), &sim, Launcher::Cli, None).await.unwrap();
    let camera = camera_to_update(&cli).await;

    let _window = ota_app::startup::WindowLock::acquire(data.path()).unwrap();
    let refused = cli
        .start_vicohome_update(None, &camera.id, Duration::ZERO)
        .await
        .err()
        .expect("refused beside the window");
    assert_eq!(refused.code, ErrorKind::Conflict, "{refused:?}");
    assert!(
        refused.message.contains("has this data folder open"),
        "{}",
        refused.message
    );
    assert_eq!(
        vicohome_starts(&sim, &camera.id).await,
        0,
        "nothing was sent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_account_is_refused_and_a_named_one_limits_the_scope() {
    let sim = simulator().await;
    let data = tempfile::tempdir().unwrap();
    let all = open(data.path(), &sim, Launcher::Cli, None).await.unwrap();
    let accounts = all.scope().unwrap();
    assert!(
        accounts.len() >= 3,
        "one sandbox account per cloud: {accounts:?}"
    );
    drop(all);

    let unknown = open(data.path(), &sim, Launcher::Cli, Some("Nobody"))
        .await
        .unwrap()
        .scope()
        .unwrap_err();
    assert_eq!(unknown.code, ErrorKind::NotFound);
    assert_eq!(unknown.message, "No account named “Nobody”.");

    let quectel = accounts.iter().find(|a| a.cloud == Cloud::Quectel).unwrap();
    let named = open(data.path(), &sim, Launcher::Cli, Some(&quectel.name))
        .await
        .unwrap();
    let listing = named.list_fleet(String::new(), None, false).await.unwrap();
    assert!(!listing.devices.is_empty());
    assert!(
        listing.devices.iter().all(|d| d.cloud == Cloud::Quectel),
        "only the named account's devices"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_cache_is_filled_from_the_cloud_once() {
    let sim = simulator().await;
    let data = tempfile::tempdir().unwrap();
    let app = open(data.path(), &sim, Launcher::Cli, None).await.unwrap();
    let said = app.ensure_fleet_cached(Some(Cloud::Quectel)).await.unwrap();
    assert_eq!(
        said,
        ["The cache holds no Quectel devices yet; fetching the fleet from the cloud first…"]
    );
    let cached = app
        .list_fleet(String::new(), Some(Cloud::Quectel), true)
        .await
        .unwrap();
    assert!(!cached.devices.is_empty(), "the cache now lists them");
    assert!(
        app.ensure_fleet_cached(Some(Cloud::Quectel))
            .await
            .unwrap()
            .is_empty(),
        "nothing fetched the second time"
    );
}
