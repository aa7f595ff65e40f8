//! Restarting the app while a camera updates resumes watching the job; the camera never gets a second start.
//! The "app" here is the engine as the window runs it: a Console on a store, its tasks on a runtime that is
//! dropped mid-job (as a killed process would stop them), then a new Console on the same store.

use std::sync::Arc;
use std::time::Duration;

use ota_clouds::CloudConnector;
use ota_core::jobs::{resume_active_jobs, start_vicohome_update, JobOptions};
use ota_core::store::JobState;
use ota_core::{Cloud, Console, Keychain, Store};
use serde_json::{json, Value};

const TIME_SCALE: f64 = 4.0;

fn console(data_dir: &std::path::Path) -> Arc<Console> {
    Arc::new(
        Console::new(
            Store::open_in(data_dir).unwrap(),
            // Sandbox accounts never touch the keychain; this only satisfies the constructor.
            Arc::new(Keychain::new("ota-console-test")),
            Arc::new(CloudConnector::default()),
        )
        .with_job_options(JobOptions::scaled(TIME_SCALE)),
    )
}

async fn get(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[test]
fn a_restarted_app_resumes_watching_without_a_second_start() {
    let sim_runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = sim_runtime.block_on(async {
        let config = ota_sim::SimConfig {
            devices: 30,
            seed: 9,
            time_scale: TIME_SCALE,
            ..Default::default()
        };
        ota_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    });
    let url = sim.url();
    let serial = sim_runtime.block_on(async {
        let fleet = get(format!("{url}/_sim/devices")).await;
        let camera = fleet
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["cloud"] == "vicohome" && d["firmware"] != d["newest_firmware"])
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        reqwest::Client::new()
            .post(format!("{url}/_sim/devices/{camera}"))
            .json(&json!({"online": true, "battery": 90}))
            .send()
            .await
            .unwrap();
        camera
    });
    let data = tempfile::tempdir().unwrap();

    // First run: start the update, see it downloading, then the process "dies".
    let first_run = tokio::runtime::Runtime::new().unwrap();
    let job_id = first_run.block_on(async {
        let console = console(data.path());
        let accounts = ota_clouds::sandbox::attach(&console, &url).await.unwrap();
        let vicohome = accounts
            .iter()
            .find(|a| a.cloud == Cloud::Vicohome)
            .unwrap();
        console.refresh_fleet().await.unwrap();
        let mut updates = console.subscribe_jobs();
        let job = start_vicohome_update(console.clone(), vicohome.id, &serial)
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let view = updates.recv().await.unwrap();
                if view.id == job.id && view.transferred > 0 {
                    break;
                }
            }
        })
        .await
        .expect("the download started");
        job.id
    });
    drop(first_run); // Every task of the first run stops here, mid-download.

    // Second run: the unfinished job is picked up and followed to the end.
    let second_run = tokio::runtime::Runtime::new().unwrap();
    let finished = second_run.block_on(async {
        let console = console(data.path());
        ota_clouds::sandbox::attach(&console, &url).await.unwrap();
        let mut updates = console.subscribe_jobs();
        assert_eq!(
            resume_active_jobs(&console).unwrap(),
            1,
            "one unfinished job"
        );
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let view = updates.recv().await.unwrap();
                if view.id == job_id && !view.state.is_active() {
                    return view;
                }
            }
        })
        .await
        .expect("the resumed job finished")
    });
    assert_eq!(finished.state, JobState::Succeeded, "{finished:?}");
    assert_eq!(finished.percent, 100);

    let starts: Vec<Value> = sim_runtime.block_on(async {
        get(format!("{url}/_sim/log"))
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["endpoint"] == "/device/otastart/")
            .cloned()
            .collect()
    });
    assert_eq!(starts.len(), 1, "exactly one start was sent: {starts:?}");
    drop(sim);
}

/// The start reached the camera but its answer was lost (unreadable): the job follows the update the
/// camera is running instead of failing — and the start is not sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_whose_answer_was_lost_is_followed_not_failed_or_repeated() {
    let config = ota_sim::SimConfig {
        devices: 30,
        seed: 19,
        time_scale: TIME_SCALE * 10.0,
        ..Default::default()
    };
    let sim = ota_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = sim.url();
    let fleet = get(format!("{url}/_sim/devices")).await;
    let camera = fleet
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["cloud"] == "vicohome" && d["firmware"] != d["newest_firmware"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    http.post(format!("{url}/_sim/devices/{camera}"))
        .json(&json!({"online": true, "battery": 90}))
        .send()
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let console = Arc::new(
        Console::new(
            Store::open_in(data.path()).unwrap(),
            Arc::new(Keychain::new("ota-console-test")),
            Arc::new(CloudConnector::default()),
        )
        .with_job_options(JobOptions::scaled(TIME_SCALE * 10.0)),
    );
    let accounts = ota_clouds::sandbox::attach(&console, &url).await.unwrap();
    let account = accounts
        .iter()
        .find(|a| a.cloud == Cloud::Vicohome)
        .unwrap();
    console.refresh_fleet().await.unwrap();
    // The camera's next four answers are spoiled: the status check before the start (all three of the
    // client's attempts) and the start itself.
    http.post(format!("{url}/_sim/faults"))
        .json(&json!({"kind": "malformed_body", "target": camera, "count": 4}))
        .send()
        .await
        .unwrap();
    let job = start_vicohome_update(console.clone(), account.id, &camera)
        .await
        .expect("the job follows the update instead of failing");
    let finished = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let now = console.store().job(job.id).unwrap();
            if !now.state.is_active() {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the job ends");
    assert_eq!(finished.state, JobState::Succeeded, "{:?}", finished.error);
    let log = get(format!("{url}/_sim/log")).await;
    let starts: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["target"] == camera.as_str()
                && e["endpoint"].as_str().unwrap_or("").contains("otastart")
        })
        .map(|e| e["outcome"].as_str().unwrap_or("").to_string())
        .collect();
    let calls: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == camera.as_str())
        .map(|e| format!("{} {}", e["endpoint"], e["outcome"]))
        .collect();
    assert_eq!(
        starts,
        ["malformed_body"],
        "one start, its answer spoiled: {calls:?}"
    );
    sim.shutdown().await;
}
