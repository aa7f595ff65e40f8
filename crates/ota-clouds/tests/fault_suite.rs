//! The fault suite: every fault the simulator offers, against every flow that touches it, through the
//! same clients and engine the window and `otactl` use. For each (fault × flow) case:
//! - nothing hangs (every case has a deadline well above the clients' own timeouts);
//! - the failure, if any, is an `ApiError` with a message and the code the fault calls for;
//! - once the fault is cleared the same flow succeeds (downloads resume, sessions renew);
//! - the engine's SQLite state is consistent afterwards (no unfinished job left, at most one job and one
//!   accepted OTA start per camera).
//!
//! The number of cases is written to `target/fault-suite.txt`, which `cargo xtask test` prints.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::onenet::device_ref;
use common::{clear_faults, patch_device, sim_get, sim_log, sim_post};
use ota_clouds::onenet::fetch::{FetchOptions, PauseSignal};
use ota_clouds::quectel::PlanTarget;
use ota_clouds::{CloudConnector, HttpConfig, RetryPolicy, VicohomeOptions};
use ota_core::cloud::{CloudSession, OnenetDeviceApi, QuectelEndUserApi};
use ota_core::jobs::{start_vicohome_update, JobOptions};
use ota_core::onenet::OnenetDeviceRef;
use ota_core::store::JobState;
use ota_core::{Account, ApiError, Cloud, Console, ErrorKind, Keychain, Store};
use ota_sim::{FaultKind, SimConfig, SimHandle};
use serde_json::{json, Value};

/// Longer than any client timeout plus its retries: a case that takes this long hangs.
const CASE_DEADLINE: Duration = Duration::from_secs(20);
/// The `slow` fault answers after this; the clients here give up sooner.
const SLOW: Duration = Duration::from_millis(2500);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(1200);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    VicohomeList,
    VicohomeStatus,
    /// The engine's job path: start, watch, finish.
    VicohomeJob,
    QuectelList,
    QuectelPlan,
    QuectelConfirm,
    OnenetList,
    OnenetCheck,
    OnenetFetch,
    OnenetReport,
}

const FLOWS: [Flow; 10] = [
    Flow::VicohomeList,
    Flow::VicohomeStatus,
    Flow::VicohomeJob,
    Flow::QuectelList,
    Flow::QuectelPlan,
    Flow::QuectelConfirm,
    Flow::OnenetList,
    Flow::OnenetCheck,
    Flow::OnenetFetch,
    Flow::OnenetReport,
];

impl Flow {
    fn cloud(self) -> Cloud {
        match self {
            Flow::VicohomeList | Flow::VicohomeStatus | Flow::VicohomeJob => Cloud::Vicohome,
            Flow::QuectelList | Flow::QuectelPlan | Flow::QuectelConfirm => Cloud::Quectel,
            _ => Cloud::Onenet,
        }
    }

    /// Whether a fault can touch this flow at all.
    fn touched_by(self, fault: FaultKind) -> bool {
        use FaultKind::*;
        match fault {
            Slow | Http429 | Http5xx | MalformedBody | TruncatedBody | OversizedBody | Offline
            | LowBattery => true,
            ClockSkew => self.cloud() == Cloud::Onenet,
            VicoGeneralError | VicoInvalidParams | TokenExpired => self.cloud() == Cloud::Vicohome,
            VicoNoUpdate | DownloadFail | InstallFail => self == Flow::VicohomeJob,
            QuectelUpgradeFail => matches!(self, Flow::QuectelConfirm | Flow::QuectelPlan),
            DownloadCut | CorruptPackage => self == Flow::OnenetFetch,
            // Campaign rules' faults (an update that never ends, a success without the new version):
            // what they mean is the campaign's device timeout and verified success, checked against the
            // simulator in `crates/ota-app/tests/campaign_rules.rs`; a single job has neither rule.
            StuckInProgress | VersionUnchanged => false,
        }
    }

    /// Actions that change the cloud: done once, they are not repeated after the fault (a second
    /// confirm of the same plan is rightly refused as "already upgrading").
    fn changes_state(self) -> bool {
        matches!(
            self,
            Flow::VicohomeJob | Flow::QuectelConfirm | Flow::OnenetReport
        )
    }

    /// Listing calls name no device, so their faults target every call.
    fn lists(self) -> bool {
        matches!(
            self,
            Flow::VicohomeList | Flow::QuectelList | Flow::OnenetList
        )
    }
}

/// What the user must see for a transport-level fault, whatever the flow.
fn expected_code(fault: FaultKind, flow: Flow) -> Option<&'static [ErrorKind]> {
    use FaultKind::*;
    // The package download is not JSON: a malformed body does not apply to it.
    if flow == Flow::OnenetFetch && fault == MalformedBody {
        return None;
    }
    Some(match fault {
        Http429 => &[ErrorKind::RateLimited],
        Http5xx | MalformedBody | OversizedBody => &[ErrorKind::Retryable],
        ClockSkew => &[ErrorKind::Auth],
        TruncatedBody => &[ErrorKind::Retryable, ErrorKind::Offline],
        Slow => &[ErrorKind::Offline, ErrorKind::Retryable],
        _ => return None,
    })
}

struct Suite {
    sim: SimHandle,
    console: Arc<Console>,
    accounts: Vec<Account>,
    fleet: Vec<Value>,
    data: tempfile::TempDir,
    used: std::collections::HashSet<String>,
}

fn no_retry() -> RetryPolicy {
    RetryPolicy::none()
}

impl Suite {
    async fn new() -> Self {
        let config = SimConfig {
            devices: 600,
            seed: 31,
            time_scale: 1000.0,
            slow_delay: SLOW,
            ..SimConfig::default()
        };
        let sim = ota_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let data = tempfile::tempdir().unwrap();
        let connector = CloudConnector::new(HttpConfig {
            connect_timeout: REQUEST_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
        })
        .with_retry(no_retry())
        .with_vicohome_options(VicohomeOptions {
            retry: no_retry(),
            ..VicohomeOptions::default()
        });
        let console = Arc::new(
            Console::new(
                Store::open_in(data.path()).unwrap(),
                // Sandbox accounts never touch the keychain.
                Arc::new(Keychain::new("ota-console-fault-suite")),
                Arc::new(connector),
            )
            .with_job_options(JobOptions::scaled(1000.0)),
        );
        let accounts = ota_clouds::sandbox::attach(&console, &sim.url())
            .await
            .unwrap();
        console.refresh_fleet().await.unwrap();
        let fleet = common::fleet(&sim).await;
        Self {
            sim,
            console,
            accounts,
            fleet,
            data,
            used: Default::default(),
        }
    }

    /// A device of the cloud not used by an earlier case (state-changing flows get a fresh one).
    fn fresh_device(&mut self, cloud: Cloud, extra: impl Fn(&Value) -> bool) -> Value {
        let device = self
            .fleet
            .iter()
            .find(|d| {
                d["cloud"] == cloud.as_str()
                    && !self.used.contains(d["id"].as_str().unwrap())
                    && extra(d)
            })
            .expect("enough devices for every case")
            .clone();
        self.used.insert(device["id"].as_str().unwrap().to_string());
        device
    }

    fn account(&self, cloud: Cloud, product: Option<&str>) -> Account {
        self.accounts
            .iter()
            .find(|a| a.cloud == cloud && (product.is_none() || a.username.as_deref() == product))
            .unwrap()
            .clone()
    }

    fn session(&self, account: &Account) -> Arc<dyn ota_core::cloud::CloudSession> {
        self.console.session(account).unwrap()
    }
}

/// A flow prepared on its device, ready to run twice (under the fault, then after it).
#[derive(Clone)]
struct Prepared {
    flow: Flow,
    device: Value,
    account: Account,
    /// Quectel plan, OneNET task.
    plan: Option<PlanTarget>,
    onenet: Option<OnenetDeviceRef>,
    token: Option<String>,
    out: std::path::PathBuf,
}

async fn prepare(suite: &mut Suite, flow: Flow, case: usize) -> Prepared {
    let cloud = flow.cloud();
    let device = match flow {
        Flow::VicohomeJob => suite.fresh_device(cloud, |d| d["firmware"] != d["newest_firmware"]),
        Flow::QuectelPlan | Flow::QuectelConfirm => {
            suite.fresh_device(cloud, |d| d["transport"] == "mqtt")
        }
        _ => suite.fresh_device(cloud, |_| true),
    };
    let id = device["id"].as_str().unwrap().to_string();
    // Online and charged, so only the fault under test can get in the way.
    patch_device(&suite.sim, &id, json!({"online": true, "battery": 90})).await;
    let product = device["product_key"].as_str().map(str::to_string);
    let account = suite.account(
        cloud,
        if cloud == Cloud::Onenet {
            product.as_deref()
        } else {
            None
        },
    );
    let mut prepared = Prepared {
        flow,
        device: device.clone(),
        account,
        plan: None,
        onenet: None,
        token: None,
        out: suite.data.path().join(format!("case-{case}.bin")),
    };
    match flow {
        Flow::QuectelPlan | Flow::QuectelConfirm => {
            let pk = product.unwrap();
            let made = sim_post(
                &suite.sim,
                "/_sim/quectel/plans",
                json!({"targetVersion": "9.9.9", "productKey": pk, "deviceKeys": [id]}),
            )
            .await;
            prepared.plan = Some(PlanTarget {
                product_key: pk,
                device_key: id.clone(),
                plan_id: made["planId"].as_i64().unwrap(),
            });
        }
        Flow::OnenetCheck | Flow::OnenetFetch | Flow::OnenetReport => {
            let made = sim_post(
                &suite.sim,
                "/_sim/onenet/tasks",
                json!({"dev_id": id, "target": "V77", "size": 3 * 1024 * 1024 + 5, "type": 2}),
            )
            .await;
            prepared.token = made["token"].as_str().map(str::to_string);
            prepared.onenet = Some(device_ref(&device));
            if flow == Flow::OnenetReport {
                // The report follows a download: the task is downloading.
                let session = suite.session(&prepared.account);
                let client = onenet(&*session);
                client
                    .check_download_token(&id, prepared.token.as_deref().unwrap())
                    .await
                    .unwrap();
            }
        }
        _ => {}
    }
    prepared
}

fn onenet(session: &dyn CloudSession) -> &dyn OnenetDeviceApi {
    session
        .onenet()
        .expect("a OneNET account's session offers the device API")
}

fn quectel(session: &dyn CloudSession) -> &dyn QuectelEndUserApi {
    session
        .quectel()
        .expect("a Quectel account's session offers the end-user API")
}

/// Runs the flow once; Ok when the user's action succeeded.
async fn run(suite: &Suite, p: &Prepared) -> Result<(), ApiError> {
    let id = p.device["id"].as_str().unwrap();
    let session = suite.session(&p.account);
    match p.flow {
        Flow::VicohomeList | Flow::QuectelList | Flow::OnenetList => {
            session.list_devices().await.map(|_| ())
        }
        Flow::VicohomeStatus => session.vicohome().unwrap().ota_status(id).await.map(|_| ()),
        Flow::VicohomeJob => {
            let job = start_vicohome_update(suite.console.clone(), p.account.id, id).await?;
            // Followed to its end, as the window does.
            let ended = wait_for_job_end(&suite.console, job.id).await;
            match ended.error {
                Some(err) if ended.state != JobState::Succeeded => Err(err),
                _ => Ok(()),
            }
        }
        Flow::QuectelPlan => {
            let plan = p.plan.as_ref().unwrap();
            quectel(&*session)
                .get_plan(&plan.product_key, &plan.device_key)
                .await
                .map(|_| ())
        }
        Flow::QuectelConfirm => {
            let outcome = quectel(&*session)
                .confirm_upgrade(std::slice::from_ref(p.plan.as_ref().unwrap()))
                .await?;
            match outcome.fail_list.first() {
                None => Ok(()),
                Some(refused) => Err(refused.error()),
            }
        }
        Flow::OnenetCheck => onenet(&*session)
            .check_task(p.onenet.as_ref().unwrap())
            .await
            .map(|_| ()),
        Flow::OnenetFetch => {
            let client = onenet(&*session);
            let task = client
                .check_task(p.onenet.as_ref().unwrap())
                .await?
                .ok_or_else(|| ApiError::not_found("no task"))?;
            let options = FetchOptions {
                max_retries: Some(0),
                chunk_size: 1024 * 1024,
                chunk_timeout: REQUEST_TIMEOUT * 2,
                ..FetchOptions::default()
            };
            client
                .fetch_package(&task, &p.out, &options, PauseSignal::never(), &mut |_| {})
                .await
                .map(|_| ())
        }
        Flow::OnenetReport => onenet(&*session)
            .report(id, p.token.as_deref().unwrap(), 101)
            .await
            .map(|_| ()),
    }
}

/// What a repeated action answers when the first one went through although its answer was lost: a
/// conflict ("already upgrading"), or for a camera that finished meanwhile, "no update" (-102).
fn already_done(err: &ApiError) -> bool {
    err.code == ErrorKind::Conflict || err.vendor_code.as_deref() == Some("-102")
}

async fn wait_for_job_end(console: &Console, job_id: i64) -> ota_core::store::JobView {
    loop {
        let job = console
            .store()
            .jobs(1000)
            .unwrap()
            .into_iter()
            .find(|j| j.id == job_id)
            .unwrap();
        if !matches!(job.state, JobState::Starting | JobState::Running) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// After a case: no job left unfinished, at most one job row and one accepted OTA start per camera.
async fn assert_consistent(suite: &Suite, p: &Prepared) {
    if p.flow != Flow::VicohomeJob {
        return;
    }
    let id = p.device["id"].as_str().unwrap();
    let jobs: Vec<_> = suite
        .console
        .store()
        .jobs(1000)
        .unwrap()
        .into_iter()
        .filter(|j| j.device_id == id)
        .collect();
    assert!(
        jobs.iter()
            .all(|j| !matches!(j.state, JobState::Starting | JobState::Running)),
        "{id}: a job was left unfinished: {jobs:?}"
    );
    let starts = sim_log(&suite.sim)
        .await
        .iter()
        .filter(|e| {
            e["target"] == id
                && e["endpoint"].as_str().unwrap_or("").contains("otastart")
                && e["outcome"] == "ok"
        })
        .count();
    // One accepted start under the fault (or none), one after it when the first did not happen.
    assert!(starts <= 2, "{id}: {starts} accepted starts");
    let succeeded = jobs
        .iter()
        .filter(|j| j.state == JobState::Succeeded)
        .count();
    assert!(succeeded <= 1, "{id}: {succeeded} successful jobs");
    assert_eq!(
        starts,
        jobs.iter()
            .filter(|j| j.vendor_state.is_some() || j.state == JobState::Succeeded)
            .count()
            .min(starts),
        "{id}: every accepted start has its job"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_against_every_flow_it_touches() {
    let mut suite = Suite::new().await;
    let mut cases = 0usize;
    let mut lines = Vec::new();
    for fault in FaultKind::all() {
        for flow in FLOWS {
            if !flow.touched_by(fault) {
                continue;
            }
            cases += 1;
            let prepared = prepare(&mut suite, flow, cases).await;
            let target = if flow.lists() {
                "*".to_string()
            } else {
                prepared.device["id"].as_str().unwrap().to_string()
            };
            common::fault(
                &suite.sim,
                json!({"kind": fault.as_str(), "target": target}),
            )
            .await;
            let under = tokio::time::timeout(CASE_DEADLINE, run(&suite, &prepared))
                .await
                .unwrap_or_else(|_| panic!("{fault} × {flow:?} hung"));
            clear_faults(&suite.sim).await;
            if let Err(err) = &under {
                assert!(
                    !err.message.trim().is_empty(),
                    "{fault} × {flow:?}: empty message"
                );
                assert!(
                    !err.message.contains("panicked"),
                    "{fault} × {flow:?}: {}",
                    err.message
                );
            }
            if let Some(codes) = expected_code(fault, flow) {
                let err = under
                    .as_ref()
                    .err()
                    .unwrap_or_else(|| panic!("{fault} × {flow:?} went unnoticed"));
                assert!(
                    codes.contains(&err.code),
                    "{fault} × {flow:?}: {:?} {}",
                    err.code,
                    err.message
                );
            }
            // The same action succeeds once the fault is gone (a Vicohome job that the fault made fail
            // is started again; a download resumes).
            let read = Prepared {
                flow: match flow {
                    Flow::QuectelConfirm => Flow::QuectelPlan,
                    Flow::OnenetReport => Flow::OnenetCheck,
                    _ => Flow::VicohomeStatus,
                },
                ..prepared.clone()
            };
            if fault == FaultKind::CorruptPackage {
                // A package that fails its MD5 ends the task as failed (107, a download-phase code,
                // reported) and leaves no file: the platform has to issue the task again, so there is
                // nothing to resume.
                let err = under
                    .as_ref()
                    .expect_err("a corrupt package went unnoticed");
                assert_eq!(err.vendor_code.as_deref(), Some("result 107"));
                assert!(!prepared.out.exists());
                let id = prepared.device["id"].as_str().unwrap();
                let tasks = sim_get(&suite.sim, &format!("/_sim/onenet/tasks?dev_id={id}")).await;
                let newest = tasks
                    .as_array()
                    .and_then(|t| t.last())
                    .cloned()
                    .unwrap_or_default();
                assert_eq!(
                    (newest["state"].as_str(), newest["last_result"].as_i64()),
                    (Some("failed"), Some(107)),
                    "{newest}"
                );
                lines.push(format!(
                    "{fault:<22} × {flow:<16?} under fault: {}",
                    err.message
                ));
                continue;
            }
            let again = if under.is_ok() && flow.changes_state() {
                tokio::time::timeout(CASE_DEADLINE, run(&suite, &read)).await
            } else {
                match tokio::time::timeout(CASE_DEADLINE, run(&suite, &prepared)).await {
                    // The action went through although its answer was lost (malformed, cut, late):
                    // repeating it is rightly refused as done, and the state read shows it.
                    Ok(Err(e)) if flow.changes_state() && already_done(&e) => {
                        tokio::time::timeout(CASE_DEADLINE, run(&suite, &read)).await
                    }
                    other => other,
                }
            };
            let after = again.unwrap_or_else(|_| panic!("{fault} × {flow:?} hung after the fault"));
            if let Err(err) = &after {
                panic!(
                    "{fault} × {flow:?}: still failing after the fault: {}",
                    err.display_line()
                );
            }
            assert_consistent(&suite, &prepared).await;
            lines.push(format!(
                "{fault:<22} × {flow:<16?} under fault: {}",
                match &under {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("{} — {}", e.code.as_str(), e.message),
                }
            ));
        }
    }
    let summary = format!(
        "fault suite: {cases} (fault × flow) cases over {} faults and {} flows, all recovered\n{}\n",
        FaultKind::all().count(),
        FLOWS.len(),
        lines.join("\n")
    );
    let target_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let _ = std::fs::write(target_dir.join("fault-suite.txt"), &summary);
    eprintln!("{summary}");
    assert!(cases >= 80, "the matrix shrank: {cases}");
    suite.sim.shutdown().await;
}
