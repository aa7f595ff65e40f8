//! Restarting the app while a camera updates resumes watching the job; the camera never gets a second start.
//! The "app" here is the engine as the window runs it: a Console on a store, its tasks on a runtime that is
//! dropped mid-job (as a killed process would stop them), then a new Console on the same store.

mod common;

use std::time::Duration;

use common::{
    account_of, attached, fault, job_end, job_event, logged, scaled_console, sim_log,
    updatable_camera,
};
use ota_core::jobs::{resume_active_jobs, start_vicohome_update};
use ota_core::store::JobState;
use ota_core::Cloud;
use ota_sim::SimHandle;
use serde_json::json;

const TIME_SCALE: f64 = 4.0;

/// A simulator of 30 devices on `time_scale` and the serial of a camera ready to take an update.
async fn sim_with_camera(seed: u64, time_scale: f64) -> (SimHandle, String) {
    let sim = common::sim(30, seed, time_scale).await;
    let camera = updatable_camera(&sim).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    (sim, camera)
}

#[test]
fn a_restarted_app_resumes_watching_without_a_second_start() {
    let sim_runtime = tokio::runtime::Runtime::new().unwrap();
    let (sim, serial) = sim_runtime.block_on(sim_with_camera(9, TIME_SCALE));
    let data = tempfile::tempdir().unwrap();

    // First run: start the update, see it downloading, then the process "dies".
    let first_run = tokio::runtime::Runtime::new().unwrap();
    let job_id = first_run.block_on(async {
        let (console, accounts) =
            attached(&sim, scaled_console(data.path(), Some(TIME_SCALE))).await;
        let vicohome = account_of(&accounts, Cloud::Vicohome);
        let mut updates = console.subscribe_jobs();
        let job = start_vicohome_update(console.clone(), vicohome.id, &serial)
            .await
            .unwrap();
        // The download started.
        job_event(&mut updates, job.id, Duration::from_secs(30), |view| {
            view.transferred > 0
        })
        .await;
        job.id
    });
    drop(first_run); // Every task of the first run stops here, mid-download.

    // Second run: the unfinished job is picked up and followed to the end.
    let second_run = tokio::runtime::Runtime::new().unwrap();
    let finished = second_run.block_on(async {
        let console = scaled_console(data.path(), Some(TIME_SCALE));
        ota_clouds::sandbox::attach(&console, &sim.url())
            .await
            .unwrap();
        let mut updates = console.subscribe_jobs();
        assert_eq!(
            resume_active_jobs(&console).unwrap(),
            1,
            "one unfinished job"
        );
        job_end(&mut updates, job_id, Duration::from_secs(60)).await
    });
    assert_eq!(finished.state, JobState::Succeeded, "{finished:?}");
    assert_eq!(finished.percent, 100);

    let starts = sim_runtime.block_on(logged(&sim, "/device/otastart/"));
    assert_eq!(starts.len(), 1, "exactly one start was sent: {starts:?}");
    drop(sim);
}

/// The start reached the camera but its answer was lost (unreadable): the job follows the update the
/// camera is running instead of failing — and the start is not sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_whose_answer_was_lost_is_followed_not_failed_or_repeated() {
    let (sim, camera) = sim_with_camera(19, TIME_SCALE * 10.0).await;
    let data = tempfile::tempdir().unwrap();
    let console = scaled_console(data.path(), Some(TIME_SCALE * 10.0));
    let (console, accounts) = attached(&sim, console).await;
    let account = account_of(&accounts, Cloud::Vicohome);
    // The camera's next four answers are spoiled: the status check before the start (all three of the
    // client's attempts) and the start itself.
    let spoiled = json!({"kind": "malformed_body", "target": camera, "count": 4});
    fault(&sim, spoiled).await;
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
    let log = sim_log(&sim).await;
    let starts: Vec<_> = log
        .iter()
        .filter(|e| {
            e["target"] == camera.as_str()
                && e["endpoint"].as_str().unwrap_or("").contains("otastart")
        })
        .map(|e| e["outcome"].as_str().unwrap_or("").to_string())
        .collect();
    let calls: Vec<String> = log
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
