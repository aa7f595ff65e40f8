//! Every Vicohome error code of the seed, provoked on the simulator through the engine's job path, ends as
//! the catalogue's message, next step and vendor code — what the window and the CLI show. The job's history
//! keeps the failure, and no code leaves a job running.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{account_of, fault, job_end, sandbox_console_scaled, updatable_camera};
use ota_clouds::sandbox_accounts;
use ota_core::jobs::start_vicohome_update;
use ota_core::progress::JobPhase;
use ota_core::store::JobState;
use ota_core::{Account, ApiError, Cloud, Console, ErrorKind};
use serde_json::json;

struct Fixture {
    sim: ota_sim::SimHandle,
    console: Arc<Console>,
    account: Account,
    camera: String,
    _data: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let sim = common::sim(30, 21, 1000.0).await;
    let data = tempfile::tempdir().unwrap();
    assert!(!sandbox_accounts(&sim.url()).await.unwrap().is_empty());
    let camera = updatable_camera(&sim).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (console, accounts) = sandbox_console_scaled(&sim, data.path(), 1000.0).await;
    let account = account_of(&accounts, Cloud::Vicohome).clone();
    Fixture {
        sim,
        console,
        account,
        camera,
        _data: data,
    }
}

/// Arms the fault `kind` on `target` (until cleared).
async fn fault_on(sim: &ota_sim::SimHandle, target: &str, kind: &str) {
    fault(sim, json!({"target": target, "kind": kind})).await;
}

/// Faults the camera's start answers with: (fault, vendor code, message, error kind).
const REFUSALS_AT_START: [(&str, &str, &str, ErrorKind); 5] = [
    (
        "vico_general_error",
        "-1",
        "The Vicohome cloud reported a general error.",
        ErrorKind::Retryable,
    ),
    (
        "vico_invalid_params",
        "-2",
        "The Vicohome cloud refused the request's parameters.",
        ErrorKind::Validation,
    ),
    (
        "offline",
        "-101",
        "The camera is offline.",
        ErrorKind::Offline,
    ),
    (
        "vico_no_update",
        "-102",
        "No firmware update is available for this camera.",
        ErrorKind::Device,
    ),
    (
        "low_battery",
        "-103",
        "The camera's battery is too low to update.",
        ErrorKind::Device,
    ),
];

/// Faults during the update: (fault, vendor code, message, the job's phase).
const FAILURES_DURING_UPDATE: [(&str, &str, &str, JobPhase); 2] = [
    (
        "download_fail",
        "-10401",
        "The camera could not download the update.",
        JobPhase::Failed,
    ),
    (
        "install_fail",
        "-10402",
        "The camera could not install the update.",
        JobPhase::FailedOther,
    ),
];

/// A fresh fixture whose camera answers with the fault `kind` (until cleared).
async fn provoked(kind: &str) -> Fixture {
    let f = fixture().await;
    fault_on(&f.sim, &f.camera, kind).await;
    f
}

/// Starts an update; a refusal comes back as the error, a failure during the update as the job's error.
async fn run(f: &Fixture, serial: &str) -> Result<ota_core::store::JobView, ApiError> {
    let mut updates = f.console.subscribe_jobs();
    let job = start_vicohome_update(f.console.clone(), f.account.id, serial).await?;
    if !job.state.is_active() {
        return Ok(job);
    }
    Ok(job_end(&mut updates, job.id, Duration::from_secs(30)).await)
}

fn assert_explained(err: &ApiError, code: &str, message: &str, kind: ErrorKind) {
    assert_eq!(err.vendor_code.as_deref(), Some(code), "{err:?}");
    assert_eq!(err.message, message);
    assert_eq!(err.code, kind, "{err:?}");
    assert!(
        err.hint.as_deref().is_some_and(|h| !h.is_empty()),
        "a next step is given: {err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_at_start_are_explained_and_recorded() {
    for (kind, code, message, error_kind) in REFUSALS_AT_START {
        let f = provoked(kind).await;
        let err = run(&f, &f.camera).await.expect_err(kind);
        assert_explained(&err, code, message, error_kind);
        // The refused job is in the history as failed, with the same explanation; nothing is left running.
        let jobs = f.console.store().jobs(10).unwrap();
        assert_eq!(jobs.len(), 1, "{kind}");
        assert_eq!(jobs[0].state, JobState::Failed);
        assert_eq!(
            jobs[0].error.as_ref().map(|e| e.message.as_str()),
            Some(message)
        );
        assert!(f.console.store().active_jobs().unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_serial_is_explained() {
    let f = fixture().await;
    let err = run(&f, "VCNOSUCHCAMERA").await.unwrap_err();
    assert_explained(
        &err,
        "-100",
        "This camera is not on the Vicohome account.",
        ErrorKind::NotFound,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_during_the_update_keep_their_phase_and_explanation() {
    // otaStatus 4 and 5 are the seed's "Error (failure)" and "Error (another type)"; what failed is told
    // by the cloud's error code, kept as the job's vendor code.
    for (kind, code, message, phase) in FAILURES_DURING_UPDATE {
        let f = provoked(kind).await;
        let job = run(&f, &f.camera).await.expect("the start is accepted");
        assert_eq!(job.state, JobState::Failed, "{kind}: {job:?}");
        assert_eq!(job.phase, phase);
        let err = job.error.expect("the failure is explained");
        assert_eq!(err.vendor_code.as_deref(), Some(code));
        assert_eq!(err.message, message);
        assert!(err.hint.is_some());
        let history = f.console.store().job_events(job.id).unwrap();
        assert!(history.len() >= 2, "samples were kept: {history:?}");
        assert_eq!(history.last().unwrap().sample.phase, phase);
    }
}
