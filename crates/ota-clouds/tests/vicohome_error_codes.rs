//! Every Vicohome error code of the seed, provoked on the simulator through the engine's job path, ends as
//! the catalogue's message, next step and vendor code — what the window and the CLI show. The job's history
//! keeps the failure, and no code leaves a job running.

use std::sync::Arc;
use std::time::Duration;

use ota_clouds::{sandbox_accounts, CloudConnector};
use ota_core::jobs::{start_vicohome_update, JobOptions};
use ota_core::progress::JobPhase;
use ota_core::store::JobState;
use ota_core::{Account, ApiError, Cloud, Console, ErrorKind, Keychain, Store};
use serde_json::{json, Value};

struct Fixture {
    sim: ota_sim::SimHandle,
    console: Arc<Console>,
    account: Account,
    camera: String,
    _data: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let config = ota_sim::SimConfig {
        devices: 30,
        seed: 21,
        time_scale: 1000.0,
        ..Default::default()
    };
    let sim = ota_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let console = Arc::new(
        Console::new(
            Store::open_in(data.path()).unwrap(),
            // Sandbox accounts never touch the keychain; this only satisfies the constructor.
            Arc::new(Keychain::new("ota-console-test")),
            Arc::new(CloudConnector::default()),
        )
        .with_job_options(JobOptions::scaled(1000.0)),
    );
    assert!(!sandbox_accounts(&sim.url()).await.unwrap().is_empty());
    let accounts = ota_clouds::sandbox::attach(&console, &sim.url())
        .await
        .unwrap();
    let account = accounts
        .into_iter()
        .find(|a| a.cloud == Cloud::Vicohome)
        .unwrap();
    let fleet: Value = reqwest::get(format!("{}/_sim/devices", sim.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let camera = fleet
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["cloud"] == "vicohome" && d["firmware"] != d["newest_firmware"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    patch(&sim, &camera, json!({"online": true, "battery": 90})).await;
    console.refresh_fleet().await.unwrap();
    Fixture {
        sim,
        console,
        account,
        camera,
        _data: data,
    }
}

async fn patch(sim: &ota_sim::SimHandle, id: &str, body: Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/devices/{id}", sim.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

async fn fault(sim: &ota_sim::SimHandle, target: &str, kind: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/faults", sim.url()))
        .json(&json!({"target": target, "kind": kind}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "fault {kind}: {}", r.status());
}

/// Starts an update; a refusal comes back as the error, a failure during the update as the job's error.
async fn run(f: &Fixture, serial: &str) -> Result<ota_core::store::JobView, ApiError> {
    let mut updates = f.console.subscribe_jobs();
    let job = start_vicohome_update(f.console.clone(), f.account.id, serial).await?;
    let done = tokio::time::timeout(Duration::from_secs(30), async {
        let mut last = job.clone();
        while last.state.is_active() {
            let v = updates.recv().await.unwrap();
            if v.id == job.id {
                last = v;
            }
        }
        last
    })
    .await
    .expect("the job ended");
    Ok(done)
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
    let cases: [(&str, &str, &str, ErrorKind); 5] = [
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
    for (kind, code, message, error_kind) in cases {
        let f = fixture().await;
        fault(&f.sim, &f.camera, kind).await;
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
    let cases = [
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
    for (kind, code, message, phase) in cases {
        let f = fixture().await;
        fault(&f.sim, &f.camera, kind).await;
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
