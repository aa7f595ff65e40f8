//! Autonomous devices: a task made with `"autonomous": true` is carried out by the simulated device
//! itself, on the simulated clock, the way a real OneNET device polls for its task and runs it. Campaigns
//! in the sandbox use this: the console creates the task, the device does the rest.
//!
//! pending → downloading (the package at 1 MiB/s of simulated time, at least 2 s) → upgrading (10 s) →
//! succeeded, and the device then runs the target. An offline device (the `offline` fault, or patched
//! offline) does not advance. The `download_fail` fault makes the task fail at 40 % of the download with
//! result 107 ("download failed: unknown error"); `install_fail` makes it fail halfway through upgrading
//! with result 206 ("upgrade failed: unknown error"). One count of a fault per task it dooms.

use crate::faults::{FaultKind, FaultUses};
use crate::world::World;

use super::tasks::{TaskState, APPLICATION};

const BYTES_PER_SEC: f64 = 1024.0 * 1024.0;
const MIN_DOWNLOAD_MS: f64 = 2_000.0;
const UPGRADE_MS: f64 = 10_000.0;
/// Result codes an autonomous device reports when a fault dooms its task.
pub const DOWNLOAD_FAILED: u16 = 107;
pub const UPGRADE_FAILED: u16 = 206;

/// How a doomed run ends: (result code, message, when in the run's own elapsed ms).
#[derive(Debug, Clone)]
pub struct Doom {
    pub result: u16,
    pub message: &'static str,
    pub at_ms: f64,
}

/// The device's own progress through a task.
#[derive(Debug, Clone, Default)]
pub struct AutoRun {
    /// Simulated ms the device spent working on it (it does not work while offline).
    pub elapsed_ms: f64,
    /// When it was last looked at (simulated ms).
    pub seen_ms: f64,
    pub doom: Option<Doom>,
    /// Set when it failed.
    pub error: Option<&'static str>,
}

impl AutoRun {
    pub fn new(now: f64) -> Self {
        Self {
            seen_ms: now,
            ..Self::default()
        }
    }
}

fn download_ms(size: u64) -> f64 {
    (size as f64 / BYTES_PER_SEC * 1000.0).max(MIN_DOWNLOAD_MS)
}

/// Percent of the whole run (download and upgrade) done, 0–100.
pub fn progress(run: &AutoRun, size: u64) -> u8 {
    let total = download_ms(size) + UPGRADE_MS;
    ((run.elapsed_ms / total * 100.0).clamp(0.0, 100.0)) as u8
}

/// Moves every autonomous task on to `now`.
pub fn settle(world: &mut World, now: f64) {
    let ids: Vec<u64> = world
        .onenet
        .tasks
        .iter()
        .filter(|t| t.auto.is_some() && t.state.is_unfinished() && t.state != TaskState::Paused)
        .map(|t| t.id)
        .collect();
    for id in ids {
        step(world, id, now);
    }
    // Paused tasks do not work either: their clock only moves on.
    for task in world.onenet.tasks.iter_mut() {
        if let (Some(run), TaskState::Paused) = (task.auto.as_mut(), task.state) {
            run.seen_ms = now;
        }
    }
}

fn step(world: &mut World, id: u64, now: f64) {
    let Some(task) = world.onenet.task(id) else {
        return;
    };
    let dev_id = task.spec.dev_id.clone();
    let size = task.size();
    let online = {
        let mut uses = FaultUses::default();
        world
            .device(&dev_id)
            .map(|d| world.view(d, &mut uses).online)
            .unwrap_or(false)
    };
    // A fault switched on decides the run's fate once, when the device first works on it.
    let undecided = task
        .auto
        .as_ref()
        .is_some_and(|r| r.doom.is_none() && r.elapsed_ms == 0.0);
    let doom = if undecided && online {
        let download = download_ms(size);
        if world.faults.hit(FaultKind::DownloadFail, Some(&dev_id)) {
            Some(Doom {
                result: DOWNLOAD_FAILED,
                message: "the device could not download the package",
                at_ms: download * 0.4,
            })
        } else if world.faults.hit(FaultKind::InstallFail, Some(&dev_id)) {
            Some(Doom {
                result: UPGRADE_FAILED,
                message: "the device could not install the package",
                at_ms: download + UPGRADE_MS / 2.0,
            })
        } else {
            None
        }
    } else {
        None
    };
    let Some(task) = world.onenet.task_mut(id) else {
        return;
    };
    let Some(run) = task.auto.as_mut() else {
        return;
    };
    if doom.is_some() {
        run.doom = doom;
    }
    if online {
        run.elapsed_ms += (now - run.seen_ms).max(0.0);
    }
    run.seen_ms = now;
    let download = download_ms(size);
    let elapsed = run.elapsed_ms;
    let next = match &run.doom {
        Some(doom) if elapsed >= doom.at_ms => {
            run.error = Some(doom.message);
            task.last_result = Some(doom.result);
            TaskState::Failed
        }
        _ if elapsed >= download + UPGRADE_MS => {
            task.last_result = Some(201);
            TaskState::Succeeded
        }
        _ if elapsed >= download => TaskState::Upgrading,
        _ if elapsed > 0.0 => TaskState::Downloading,
        _ => TaskState::Pending,
    };
    task.step = ((elapsed / download).min(1.0) * 100.0) as u8;
    if next != task.state {
        task.set_state(next, now);
        if next == TaskState::Succeeded {
            let (target, task_type) = (task.spec.target.clone(), task.spec.task_type);
            if task_type == APPLICATION {
                if let Some(device) = world.device_mut(&dev_id) {
                    device.firmware = target;
                }
            } else {
                world.onenet.module_versions.insert(dev_id, target);
            }
        }
    }
}
