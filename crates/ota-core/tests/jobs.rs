//! Single-device update jobs (`ota_core::jobs`) against an in-memory cloud: start once then follow, the
//! bar never runs backwards, a cloud's failure code fails the job with its words, and a restart follows an
//! unfinished job without starting the camera again.

mod support;

use std::time::Duration;

use ota_core::jobs::{self, JobOptions};
use ota_core::progress::JobPhase;
use ota_core::store::{JobState, JobView};
use ota_core::{ApiError, ErrorKind};
use support::{
    fast_options, wait_for_job_end, FakeCloud, Harness, Script, Step, OLD, PACKAGE_BYTES, TARGET,
};

fn phases_shown(h: &Harness, job_id: i64) -> Vec<(JobPhase, u8)> {
    h.console
        .store()
        .job_events(job_id)
        .expect("read the job's history")
        .iter()
        .map(|event| (event.sample.phase, event.sample.percent))
        .collect()
}

/// A job's history as the steps it shows: starting at 0 %, downloading at each of `downloaded`, then
/// `after`.
fn walk(downloaded: &[u8], after: &[(JobPhase, u8)]) -> Vec<(JobPhase, u8)> {
    let mut steps = vec![(JobPhase::Starting, 0)];
    steps.extend(downloaded.iter().map(|&p| (JobPhase::Downloading, p)));
    steps.extend_from_slice(after);
    steps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_shows_download_install_and_done_and_its_bar_never_runs_backwards() {
    let cloud = FakeCloud::new([(
        "CAM-1",
        Script::steps(vec![
            Step::downloading(300_000),
            Step::downloading(600_000),
            // A late answer with fewer bytes (a re-sent chunk, a lagging replica of the cloud).
            Step::downloading(200_000),
            Step::downloading(PACKAGE_BYTES),
            Step::installing(),
            Step::complete(),
        ]),
    )]);
    let h = Harness::new(cloud.clone()).await;
    let mut updates = h.console.subscribe_jobs();

    let job = jobs::start_vicohome_update(h.console.clone(), h.account.id, "CAM-1")
        .await
        .expect("the update starts");
    assert_eq!(job.from_version.as_deref(), Some(OLD));
    assert_eq!(job.to_version.as_deref(), Some(TARGET));
    let done = wait_for_job_end(&h.console, job.id).await;

    assert_eq!(
        (done.state, done.phase, done.percent),
        (JobState::Succeeded, JobPhase::Complete, 100)
    );
    assert_eq!(done.error, None);
    // Download fills 0–90 %, installing shows 95 %, done 100 %; the stale 200 000 bytes (18 %) keep 54 %.
    let installed = [(JobPhase::Installing, 95), (JobPhase::Complete, 100)];
    assert_eq!(
        phases_shown(&h, job.id),
        walk(&[27, 54, 54, 90], &installed)
    );
    // What the window's progress channel received runs forwards only, and ends at 100 %.
    let mut seen: Vec<JobView> = Vec::new();
    while let Ok(view) = updates.try_recv() {
        if view.id == job.id {
            seen.push(view);
        }
    }
    assert!(
        seen.windows(2).all(|w| w[0].percent <= w[1].percent),
        "published percents ran backwards: {:?}",
        seen.iter().map(|v| v.percent).collect::<Vec<_>>()
    );
    assert_eq!(seen.last().map(|v| v.state), Some(JobState::Succeeded));

    assert_eq!(cloud.starts("CAM-1"), 1);
    // The device list shows the new version without waiting for a refresh.
    let device = h
        .console
        .store()
        .device(h.account.id, "CAM-1")
        .expect("read the device")
        .expect("the device is cached");
    assert_eq!(device.firmware, TARGET);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_already_updating_is_followed_and_never_started_again() {
    let cloud = FakeCloud::new([("CAM-1", Script::already_updating(2))]);
    let h = Harness::new(cloud.clone()).await;
    // Held mid-download, so the second request below meets a job that is certainly still running.
    cloud.freeze(true);

    let job = jobs::start_vicohome_update(h.console.clone(), h.account.id, "CAM-1")
        .await
        .expect("the update is followed");
    let again = jobs::start_vicohome_update(h.console.clone(), h.account.id, "CAM-1")
        .await
        .expect_err("a second update of the same camera is refused");
    assert_eq!(again.code, ErrorKind::Conflict);

    cloud.freeze(false);
    let done = wait_for_job_end(&h.console, job.id).await;
    assert_eq!((done.state, done.percent), (JobState::Succeeded, 100));
    assert_eq!(
        cloud.starts("CAM-1"),
        0,
        "the camera was already updating: no start was sent"
    );
    assert!(phases_shown(&h, job.id).contains(&(JobPhase::Downloading, 45)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_code_fails_the_job_with_the_clouds_words() {
    let cloud_error = ApiError::new(
        ErrorKind::Device,
        "The camera could not download the firmware.",
    )
    .with_vendor_code("-10401")
    .with_hint("Check the camera's Wi-Fi signal and start the update again.");
    let cloud = FakeCloud::new([(
        "CAM-1",
        Script::steps(vec![
            Step::downloading(500_000),
            Step::failed(cloud_error.clone()),
        ]),
    )]);
    let h = Harness::new(cloud.clone()).await;

    let job = jobs::start_vicohome_update(h.console.clone(), h.account.id, "CAM-1")
        .await
        .expect("the update starts");
    let done = wait_for_job_end(&h.console, job.id).await;

    assert_eq!(done.state, JobState::Failed);
    assert_eq!(done.phase, JobPhase::Failed);
    assert_eq!(done.error, Some(cloud_error));
    assert_eq!(done.percent, 45, "the bar stays where the download stopped");
    assert_eq!(cloud.starts("CAM-1"), 1);
    let device = h.console.store().device(h.account.id, "CAM-1").unwrap();
    assert_eq!(device.map(|d| d.firmware).as_deref(), Some(OLD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_or_unreachable_start_fails_the_job_and_leaves_the_camera_free() {
    let refusal = ApiError::new(
        ErrorKind::Device,
        "The camera's battery is too low to update.",
    )
    .with_vendor_code("-10403");
    let cloud = FakeCloud::new([
        ("CAM-LOW", Script::refuses(refusal.clone())),
        ("CAM-GONE", Script::offline()),
    ]);
    let h = Harness::new(cloud.clone()).await;

    let err = jobs::start_vicohome_update(h.console.clone(), h.account.id, "CAM-LOW")
        .await
        .expect_err("the cloud refused the start");
    assert_eq!(err, refusal);
    let err = jobs::start_vicohome_update(h.console.clone(), h.account.id, "CAM-GONE")
        .await
        .expect_err("the camera is offline");
    assert_eq!(err.code, ErrorKind::Offline);

    let listed = h.console.store().jobs(10).unwrap();
    let job_of = |serial: &str| listed.iter().find(|j| j.device_id == serial).cloned();
    let low = job_of("CAM-LOW").expect("the refused job is listed");
    assert_eq!(
        (low.state, low.phase),
        (JobState::Failed, JobPhase::Rejected)
    );
    assert_eq!(
        low.error.as_ref().map(|e| e.message.as_str()),
        Some(refusal.message.as_str())
    );
    let gone = job_of("CAM-GONE").expect("the offline job is listed");
    assert_eq!(gone.state, JobState::Failed);
    assert!(gone.error.is_some());

    // A failed job is closed: trying again sends a new start rather than meeting "already in progress".
    let again = jobs::start_vicohome_update(h.console.clone(), h.account.id, "CAM-LOW")
        .await
        .expect_err("still refused");
    assert_eq!(again.code, ErrorKind::Device);
    assert_eq!(cloud.starts("CAM-LOW"), 2);
}

/// The app is killed right after it started a camera's update (before it read any status), then opened
/// again over the same data folder.
#[test]
fn after_a_restart_an_unfinished_job_is_followed_to_its_end_without_a_second_start() {
    let cloud = FakeCloud::new([("CAM-1", Script::succeeds_after(4))]);
    let first_run = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Its first status read would come an hour later: the kill certainly happens before.
    let slow = JobOptions {
        poll_interval: Duration::from_secs(3600),
        ..fast_options()
    };
    let (h, job) = first_run.block_on(async {
        let h = Harness::with_options(cloud.clone(), slow).await;
        let job = jobs::start_vicohome_update(h.console.clone(), h.account.id, "CAM-1")
            .await
            .expect("the update starts");
        (h, job)
    });
    // Killed: every task of that process is gone.
    drop(first_run);
    assert_eq!(cloud.starts("CAM-1"), 1);
    let left = h.console.store().job(job.id).unwrap();
    assert!(left.state.is_active(), "left unfinished: {left:?}");

    let second_run = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    second_run.block_on(async {
        let console = h.restarted(fast_options());
        assert_eq!(jobs::resume_active_jobs(&console).unwrap(), 1);
        let done = wait_for_job_end(&console, job.id).await;
        assert_eq!((done.state, done.percent), (JobState::Succeeded, 100));
    });

    assert_eq!(
        cloud.starts("CAM-1"),
        1,
        "the restart followed the job; it did not start the camera again"
    );
    // One history across both runs: the start before the kill, then every status after the restart.
    let completed = [(JobPhase::Complete, 100)];
    assert_eq!(phases_shown(&h, job.id), walk(&[22, 45, 67], &completed));
}
