//! Autonomous devices: a task made with `"autonomous": true` (`POST /_sim/onenet/tasks`) is carried
//! out by the simulated device itself, on the simulated clock, the way a real OneNET device polls for
//! its task and runs it. Campaigns in the sandbox use this: the console creates the task, the device
//! does the rest. Evaluated lazily, like every run in the simulator, from [`World::settle_at`].
//!
//! pending → downloading (the package's `size` at 1 MiB/s of simulated time, at least 2 s) →
//! upgrading (10 s) → succeeded, and the device then runs the target: the fleet's `firmware` (the
//! `s_version` of `GET /ota/device/version`) for an application task, `f_version` for a module task.
//! The task view's `progress` (0–100) covers download and upgrade together.
//!
//! - An offline device (the `offline` fault on its dev_id or "*", or patched `{"online": false}`) does
//!   not work on its task: the task stays where it is (pending if not begun) and goes on when the device
//!   is back. A paused task does not advance either; a cancelled one is over.
//! - Faults decide a run's fate once, when the device first works on it (online, nothing done yet), and
//!   each doomed task uses up one count of its fault:
//!   - `download_fail` → failed at 40 % of the download, `result` (and `last_result`)
//!     [`DOWNLOAD_FAILED`] = 107
//!     (the seed's "download failed, unknown exception"), `error` "the device could not download the
//!     package";
//!   - `install_fail` → failed halfway through upgrading, `result` (and `last_result`)
//!     [`UPGRADE_FAILED`] = 206
//!     (the seed's "upgrade failed, unknown exception"), `error` "the device could not install the
//!     package".
//! - The device reports as the seed orders it: reaching upgrading records `last_result` 101 (its
//!   download report), a success 201 (the seed's "upgrade success"); `result` stays null. So a
//!   device-side 101 on an autonomous task that is already upgrading is refused (errno 21), as a
//!   second download report is.
//!
//! A task's `updated_ms` is the simulated instant of its last change, even when it is looked at later.

use crate::faults::{FaultKind, FaultUses};
use crate::world::World;

use super::tasks::TaskState;

/// Simulated download speed.
pub const BYTES_PER_SEC: f64 = 1024.0 * 1024.0;
/// The shortest download, whatever the package's size.
pub const MIN_DOWNLOAD_MS: f64 = 2_000.0;
/// Simulated ms spent upgrading after the download.
pub const UPGRADE_MS: f64 = 10_000.0;
/// Where in the download a `download_fail` stops it.
pub const DOWNLOAD_FAIL_AT: f64 = 0.4;
/// Result code of a download the `download_fail` fault stopped (seed: download failed, unknown).
pub const DOWNLOAD_FAILED: u16 = 107;
/// Result code of an upgrade the `install_fail` fault stopped (seed: upgrade failed, unknown).
pub const UPGRADE_FAILED: u16 = 206;
/// Result code of a finished download (the report that begins the upgrade phase).
pub const DOWNLOADED: u16 = 101;
/// Result code of a finished upgrade.
pub const UPGRADE_SUCCEEDED: u16 = 201;

/// How a doomed run ends.
#[derive(Debug, Clone)]
pub struct Doom {
    pub result: u16,
    pub message: &'static str,
    /// In the run's own working time (ms).
    pub at_ms: f64,
}

/// The device's own progress through a task.
#[derive(Debug, Clone, Default)]
pub struct AutoRun {
    /// Simulated ms the device spent working on it (it does not work while offline or paused).
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

/// How far along a state is, so a run never moves a task backwards (a device-side call may have moved
/// it on already).
fn rank(state: TaskState) -> u8 {
    match state {
        TaskState::Pending | TaskState::Paused => 0,
        TaskState::Downloading => 1,
        TaskState::Upgrading => 2,
        TaskState::Succeeded | TaskState::Failed | TaskState::Cancelled => 3,
    }
}

/// Moves every autonomous task on to `now`.
pub fn settle(world: &mut World, now: f64) {
    if world.onenet.autonomous.is_empty() {
        return;
    }
    let mut ids = std::mem::take(&mut world.onenet.autonomous);
    // An ended task (succeeded, failed, cancelled) never runs again: it leaves the list.
    let open = |world: &World, id: u64| {
        world
            .onenet
            .task(id)
            .is_some_and(|t| t.auto.is_some() && t.state.is_unfinished())
    };
    ids.retain(|&id| open(world, id));
    for &id in &ids {
        step(world, id, now);
    }
    ids.retain(|&id| open(world, id));
    ids.append(&mut world.onenet.autonomous);
    world.onenet.autonomous = ids;
}

fn step(world: &mut World, id: u64, now: f64) {
    let Some(task) = world.onenet.task(id) else {
        return;
    };
    let Some(run) = task.auto.as_ref() else {
        return;
    };
    let paused = task.state == TaskState::Paused;
    let dev_id = task.spec.dev_id.clone();
    let download = download_ms(task.size());
    // Looking does not use up an `offline` fault's count.
    let online = world
        .device(&dev_id)
        .is_some_and(|d| world.view(d, &mut FaultUses::default()).online);
    let working = online && !paused;
    let undecided = run.doom.is_none() && run.elapsed_ms == 0.0;
    let doom = if working && undecided {
        if world.faults.hit(FaultKind::DownloadFail, Some(&dev_id)) {
            Some(Doom {
                result: DOWNLOAD_FAILED,
                message: "the device could not download the package",
                at_ms: download * DOWNLOAD_FAIL_AT,
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
    if working {
        run.elapsed_ms += (now - run.seen_ms).max(0.0);
    }
    run.seen_ms = now;
    if paused {
        return;
    }
    // (state, working ms at which it was reached)
    let (next, reached_ms) = match &run.doom {
        Some(doom) if run.elapsed_ms >= doom.at_ms => {
            // It stopped there: progress does not run on past the failure.
            run.elapsed_ms = doom.at_ms;
            (TaskState::Failed, doom.at_ms)
        }
        _ if run.elapsed_ms >= download + UPGRADE_MS => {
            (TaskState::Succeeded, download + UPGRADE_MS)
        }
        _ if run.elapsed_ms >= download => (TaskState::Upgrading, download),
        _ if run.elapsed_ms > 0.0 => (TaskState::Downloading, 0.0),
        _ => (TaskState::Pending, 0.0),
    };
    let elapsed = run.elapsed_ms;
    task.step = task.step.max(((elapsed / download).min(1.0) * 100.0) as u8);
    if rank(next) <= rank(task.state) {
        return;
    }
    // When it happened, on the simulated clock (the device worked without a break since `seen`).
    let at = (now - (elapsed - reached_ms)).max(task.updated_ms).min(now);
    match next {
        TaskState::Failed => {
            task.last_result = run.doom.as_ref().map(|d| d.result);
            run.error = run.doom.as_ref().map(|d| d.message);
        }
        TaskState::Succeeded => task.last_result = Some(UPGRADE_SUCCEEDED),
        TaskState::Upgrading => task.last_result = Some(DOWNLOADED),
        _ => {}
    }
    task.set_state(next, at);
    if next == TaskState::Succeeded {
        let (target, task_type) = (task.spec.target.clone(), task.spec.task_type);
        super::set_version(world, &dev_id, task_type, target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_take_the_size_at_one_mib_per_second_and_at_least_two_seconds() {
        assert_eq!(download_ms(1024), MIN_DOWNLOAD_MS);
        assert_eq!(download_ms(5 * 1024 * 1024), 5_000.0);
        let mut run = AutoRun::new(0.0);
        assert_eq!(progress(&run, 5 * 1024 * 1024), 0);
        run.elapsed_ms = 7_500.0;
        assert_eq!(progress(&run, 5 * 1024 * 1024), 50);
        run.elapsed_ms = 1e9;
        assert_eq!(progress(&run, 5 * 1024 * 1024), 100);
    }
}
