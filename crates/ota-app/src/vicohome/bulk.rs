//! Updating several cameras at once. First which of the chosen devices get an update: the others are left
//! out, each with why ([`App::vicohome_update_plan`], which the window shows before it asks). Then each
//! camera is started once — in the order given, at most [`BULK_UPDATE_CONCURRENCY`] at a time, one refusal
//! never stopping the others — and followed ([`App::start_vicohome_updates`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use ts_rs::TS;

use super::runs_newest_firmware;
use crate::campaigns::DeviceKey;
use crate::jobs::JobView;
use crate::{ApiError, App, Cloud, Device};

/// Cameras being started at once; the rest wait their turn so the cloud is not flooded.
pub const BULK_UPDATE_CONCURRENCY: usize = 4;

/// Events waiting for a slow listener before the starts wait for it.
const EVENT_BUFFER: usize = 256;

/// Why a chosen device gets no update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LeftOutReason {
    /// It already runs the newest firmware its cloud offers (`version`).
    UpToDate { version: String },
    /// Not a Vicohome camera: only cameras are updated this way.
    OtherCloud { cloud: Cloud },
    /// Not in the cached device list of an account in scope (removed, or never fetched).
    NotInList,
}

/// A chosen device that gets no update, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LeftOutCamera {
    pub camera: DeviceKey,
    /// The device's name in the cache (its id when it is not in the cache).
    pub name: String,
    pub reason: LeftOutReason,
}

/// What updating the chosen devices would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CameraUpdatePlan {
    /// The cameras to start, in the order chosen, each once.
    pub to_start: Vec<DeviceKey>,
    /// The rest, in the order chosen.
    pub left_out: Vec<LeftOutCamera>,
}

/// What happens to one camera of a bulk update, and when every camera has had its answer.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CameraUpdateEvent {
    /// No update for this device (sent first, for each left out).
    LeftOut(LeftOutCamera),
    /// Its start is being sent now.
    Starting { camera: DeviceKey },
    /// Started, or an update already under way is followed: the job as it is now.
    Started { camera: DeviceKey, job: JobView },
    /// A later state of a started camera's job (at most one per job every `min_gap`; the last always).
    Progress { camera: DeviceKey, job: JobView },
    /// The cloud (or a rule) refused this camera's start; the others go on.
    Refused { camera: DeviceKey, error: ApiError },
    /// Every camera was started, refused or left out. Progress of the started ones may still follow; the
    /// stream closes when their jobs have ended.
    Settled,
}

impl App {
    /// Which of `devices` an update would start, and why each other one is left out. A device named twice
    /// counts once.
    pub fn vicohome_update_plan(
        &self,
        devices: &[DeviceKey],
    ) -> Result<CameraUpdatePlan, ApiError> {
        let in_scope: HashSet<i64> = self.scope()?.iter().map(|a| a.id).collect();
        let mut seen = HashSet::new();
        let mut plan = CameraUpdatePlan::default();
        for key in devices {
            if !seen.insert(key) {
                continue;
            }
            let cached = if in_scope.contains(&key.account_id) {
                self.console
                    .store()
                    .device(key.account_id, &key.device_id)?
            } else {
                None
            };
            let left_out = match &cached {
                None => Some((key.device_id.clone(), LeftOutReason::NotInList)),
                Some(device) => left_out_reason(device).map(|reason| (device.name.clone(), reason)),
            };
            match left_out {
                Some((name, reason)) => plan.left_out.push(LeftOutCamera {
                    camera: key.clone(),
                    name,
                    reason,
                }),
                None => plan.to_start.push(key.clone()),
            }
        }
        Ok(plan)
    }

    /// Updates the cameras among `devices` (as [`App::vicohome_update_plan`] decides now): each is started
    /// once through [`App::start_vicohome_update`] (an update already under way is followed), in order, at
    /// most [`BULK_UPDATE_CONCURRENCY`] at a time. The answer is the stream of what happens to each.
    ///
    /// The starts go on when nobody listens any more: the user asked for all of them, and each job shows
    /// in the job list.
    pub fn start_vicohome_updates(
        self: Arc<Self>,
        devices: &[DeviceKey],
        min_gap: Duration,
    ) -> Result<mpsc::Receiver<CameraUpdateEvent>, ApiError> {
        let plan = self.vicohome_update_plan(devices)?;
        let (events, receiver) = mpsc::channel(EVENT_BUFFER);
        tokio::spawn(run(self, plan, min_gap, events));
        Ok(receiver)
    }
}

/// The rule: only Vicohome cameras, and only those not already on the newest firmware their cloud offers.
/// A camera whose cloud does not say which firmware is newest is started: the cloud answers for itself.
fn left_out_reason(device: &Device) -> Option<LeftOutReason> {
    if device.cloud != Cloud::Vicohome {
        return Some(LeftOutReason::OtherCloud {
            cloud: device.cloud,
        });
    }
    if runs_newest_firmware(device) {
        return Some(LeftOutReason::UpToDate {
            version: device.firmware.clone(),
        });
    }
    None
}

async fn run(
    app: Arc<App>,
    plan: CameraUpdatePlan,
    min_gap: Duration,
    events: mpsc::Sender<CameraUpdateEvent>,
) {
    // A send fails only when nobody listens; the starts go on regardless.
    for left_out in plan.left_out {
        let _ = events.send(CameraUpdateEvent::LeftOut(left_out)).await;
    }
    let slots = Arc::new(Semaphore::new(BULK_UPDATE_CONCURRENCY));
    let mut starts = JoinSet::new();
    for camera in plan.to_start {
        // The slot is taken here, not in the task, so the cameras start in the order given.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let _ = events
            .send(CameraUpdateEvent::Starting {
                camera: camera.clone(),
            })
            .await;
        let (app, events) = (app.clone(), events.clone());
        starts.spawn(async move {
            let started = app
                .start_vicohome_update(Some(camera.account_id), &camera.device_id, min_gap)
                .await;
            // Following the job needs no slot: the next camera may start now.
            drop(slot);
            match started {
                Ok((job, _)) => {
                    let _ = events
                        .send(CameraUpdateEvent::Started {
                            camera: camera.clone(),
                            job: job.first,
                        })
                        .await;
                    tokio::spawn(forward_progress(camera, job.updates, events));
                }
                Err(error) => {
                    let _ = events
                        .send(CameraUpdateEvent::Refused { camera, error })
                        .await;
                }
            }
        });
        while starts.try_join_next().is_some() {}
    }
    while starts.join_next().await.is_some() {}
    let _ = events.send(CameraUpdateEvent::Settled).await;
}

async fn forward_progress(
    camera: DeviceKey,
    mut updates: mpsc::Receiver<JobView>,
    events: mpsc::Sender<CameraUpdateEvent>,
) {
    while let Some(job) = updates.recv().await {
        let progress = CameraUpdateEvent::Progress {
            camera: camera.clone(),
            job,
        };
        if events.send(progress).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use ota_core::{CoreError, Secret, SecretSlot, SecretStore};

    use super::*;
    use crate::{DeviceQuery, Launcher, OpenOptions, SandboxChoice, SimSettings};

    /// Sandbox credentials stay in memory; nothing here needs the OS keychain.
    #[derive(Default)]
    struct MemorySecrets(Mutex<HashMap<(String, String), String>>);

    impl SecretStore for MemorySecrets {
        fn set(&self, key: &str, slot: SecretSlot, secret: &Secret) -> Result<(), CoreError> {
            let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
            held.insert((key.into(), format!("{slot:?}")), secret.expose().into());
            Ok(())
        }
        fn get(&self, key: &str, slot: SecretSlot) -> Result<Option<Secret>, CoreError> {
            let held = self.0.lock().unwrap_or_else(|p| p.into_inner());
            Ok(held
                .get(&(key.into(), format!("{slot:?}")))
                .map(|s| Secret::new(s.clone())))
        }
        fn delete(&self, key: &str, slot: SecretSlot) -> Result<(), CoreError> {
            let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
            held.remove(&(key.into(), format!("{slot:?}")));
            Ok(())
        }
    }

    /// A window over the in-process simulator's sandbox fleet, fetched into the cache. Its clock runs
    /// slowly enough that the updates are still running when the test looks again.
    async fn sandbox_app(dir: &std::path::Path) -> Arc<App> {
        let options = OpenOptions {
            data_dir: Some(dir.to_path_buf()),
            launcher: Launcher::Window,
            sandbox: SandboxChoice::InProcess(SimSettings {
                seed: 42,
                devices: 120,
                time_scale: 1.0,
            }),
            account: None,
            database: None,
            actor: None,
        };
        let app = App::open_with(
            options,
            Arc::new(MemorySecrets::default()),
            Arc::new(ota_clouds::CloudConnector::default()),
        )
        .await
        .expect("the app opens");
        let notices = app.connect_sandbox().await;
        assert!(notices.is_empty(), "{notices:?}");
        app.refresh_fleet().await.expect("the sandbox fleet loads");
        app
    }

    fn key(device: &Device) -> DeviceKey {
        DeviceKey {
            account_id: device.account_id,
            device_id: device.id.clone(),
        }
    }

    /// Every event until `Settled`.
    async fn until_settled(
        events: &mut mpsc::Receiver<CameraUpdateEvent>,
    ) -> Vec<CameraUpdateEvent> {
        let mut seen = Vec::new();
        loop {
            let next = tokio::time::timeout(Duration::from_secs(60), events.recv())
                .await
                .expect("the starts settle within a minute")
                .expect("the stream stays open until Settled");
            if matches!(next, CameraUpdateEvent::Settled) {
                return seen;
            }
            seen.push(next);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bulk_update_leaves_out_what_it_must_and_starts_each_camera_once_four_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let app = sandbox_app(dir.path()).await;
        let fleet = app
            .console
            .store()
            .matching_devices(&DeviceQuery::default())
            .unwrap();
        let cameras = || fleet.iter().filter(|d| d.cloud == Cloud::Vicohome);
        let offered = |d: &&Device| d.newest_firmware.is_some() && !runs_newest_firmware(d);
        // Cameras the simulator starts: online, charged, with an update waiting.
        let startable: Vec<&Device> = cameras()
            .filter(offered)
            .filter(|d| d.online && d.battery.is_some_and(|b| b >= 30))
            .take(6)
            .collect();
        assert_eq!(startable.len(), 6, "the sandbox has six startable cameras");
        let offline = cameras()
            .filter(offered)
            .find(|d| !d.online)
            .expect("an offline camera with an update waiting");
        let up_to_date = cameras()
            .find(|d| runs_newest_firmware(d))
            .expect("a camera already on its newest firmware");
        let pump = fleet
            .iter()
            .find(|d| d.cloud == Cloud::Onenet)
            .expect("a OneNET device");
        let unknown = DeviceKey {
            account_id: up_to_date.account_id,
            device_id: "NO-SUCH-CAMERA".into(),
        };

        let mut chosen: Vec<DeviceKey> = vec![key(up_to_date), key(startable[0]), key(offline)];
        chosen.extend(startable[1..].iter().map(|d| key(d)));
        chosen.extend([key(pump), unknown.clone(), key(startable[0])]);
        let mut to_start = vec![key(startable[0]), key(offline)];
        to_start.extend(startable[1..].iter().map(|d| key(d)));

        let plan = app.vicohome_update_plan(&chosen).unwrap();
        assert_eq!(plan.to_start, to_start, "in the order chosen, each once");
        assert_eq!(
            plan.left_out,
            vec![
                LeftOutCamera {
                    camera: key(up_to_date),
                    name: up_to_date.name.clone(),
                    reason: LeftOutReason::UpToDate {
                        version: up_to_date.firmware.clone()
                    },
                },
                LeftOutCamera {
                    camera: key(pump),
                    name: pump.name.clone(),
                    reason: LeftOutReason::OtherCloud {
                        cloud: Cloud::Onenet
                    },
                },
                LeftOutCamera {
                    camera: unknown.clone(),
                    name: unknown.device_id.clone(),
                    reason: LeftOutReason::NotInList,
                },
            ]
        );

        let mut events = app
            .clone()
            .start_vicohome_updates(&chosen, Duration::ZERO)
            .unwrap();
        let seen = until_settled(&mut events).await;
        let mut left_out = Vec::new();
        let mut starting = Vec::new();
        let mut answered: HashMap<DeviceKey, Result<JobView, ApiError>> = HashMap::new();
        let (mut in_flight, mut most_in_flight) = (0usize, 0usize);
        for event in seen {
            match event {
                CameraUpdateEvent::LeftOut(camera) => left_out.push(camera),
                CameraUpdateEvent::Starting { camera } => {
                    in_flight += 1;
                    most_in_flight = most_in_flight.max(in_flight);
                    starting.push(camera);
                }
                CameraUpdateEvent::Started { camera, job } => {
                    in_flight -= 1;
                    assert!(
                        answered.insert(camera, Ok(job)).is_none(),
                        "one answer each"
                    );
                }
                CameraUpdateEvent::Refused { camera, error } => {
                    in_flight -= 1;
                    assert!(
                        answered.insert(camera, Err(error)).is_none(),
                        "one answer each"
                    );
                }
                CameraUpdateEvent::Progress { camera, job } => {
                    let started = answered.get(&camera).and_then(|a| a.as_ref().ok());
                    assert_eq!(
                        started.map(|j| j.id),
                        Some(job.id),
                        "progress after the start"
                    );
                }
                CameraUpdateEvent::Settled => unreachable!("until_settled stops there"),
            }
        }
        assert_eq!(left_out, plan.left_out);
        assert_eq!(starting, to_start, "started in the order chosen");
        assert!(
            most_in_flight <= BULK_UPDATE_CONCURRENCY,
            "{most_in_flight} at once"
        );
        let refusal = answered[&key(offline)]
            .as_ref()
            .expect_err("offline refuses");
        assert_eq!(refusal.code, crate::ErrorKind::Offline, "{refusal:?}");
        for camera in &startable {
            let job = answered[&key(camera)]
                .as_ref()
                .expect("the others still start");
            assert_eq!(job.device_id, camera.id);
            assert!(job.state.is_active(), "{:?}", job.state);
        }

        // Asked again while they update: every running camera is followed, none started a second time.
        let again: Vec<DeviceKey> = startable.iter().map(|d| key(d)).collect();
        let mut events = app
            .clone()
            .start_vicohome_updates(&again, Duration::ZERO)
            .unwrap();
        for event in until_settled(&mut events).await {
            if let CameraUpdateEvent::Started { camera, job } = &event {
                let first = answered[camera].as_ref().unwrap();
                assert_eq!(
                    job.id, first.id,
                    "{} followed, not started again",
                    camera.device_id
                );
            }
            assert!(
                !matches!(event, CameraUpdateEvent::Refused { .. }),
                "{event:?}"
            );
        }
        let jobs = app.jobs(1000).unwrap();
        for camera in to_start.iter() {
            let count = jobs
                .iter()
                .filter(|j| j.device_id == camera.device_id)
                .count();
            assert_eq!(count, 1, "{} has one job", camera.device_id);
        }
        for camera in [key(up_to_date), key(pump)] {
            assert!(jobs.iter().all(|j| j.device_id != camera.device_id));
        }
    }
}
