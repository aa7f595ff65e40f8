//! OneNET upgrade tasks: what the platform holds per device (target, package, conditions, state, download
//! token) and the lookups the device-side calls need. Written from the seed and the shared notes, not
//! from the client.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::fleet::SplitMix64;

/// A download token lives two days (simulated time).
pub const TOKEN_TTL_MS: f64 = 2.0 * 24.0 * 3600.0 * 1000.0;

/// The largest package the management endpoint makes.
pub const MAX_PACKAGE: u64 = 512 * 1024 * 1024;

/// `check?type=` and a task's kind: 1 = module (FOTA), 2 = application (SOTA).
pub const MODULE: u8 = 1;
pub const APPLICATION: u8 = 2;

/// The check answer's `type`: 1 = full package, 2 = difference package.
pub const FULL: u8 = 1;
pub const DIFF: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Pending,
    Downloading,
    Upgrading,
    Succeeded,
    Failed,
    Cancelled,
    Paused,
}

impl TaskState {
    pub fn is_unfinished(self) -> bool {
        matches!(
            self,
            TaskState::Pending | TaskState::Downloading | TaskState::Upgrading | TaskState::Paused
        )
    }
}

/// A package's bytes and digest, shared (never copied) by every task and response that serves it.
#[derive(Debug)]
pub struct Package {
    pub bytes: Bytes,
    /// Lowercase hex.
    pub md5: String,
}

impl Package {
    /// `size` deterministic bytes for `seed`.
    pub fn generate(seed: u64, size: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let mut bytes = Vec::with_capacity(size);
        while bytes.len() < size {
            let word = rng.next_u64().to_le_bytes();
            let room = (size - bytes.len()).min(8);
            bytes.extend_from_slice(&word[..room]);
        }
        let md5 = Md5::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            bytes: Bytes::from(bytes),
            md5,
        }
    }
}

/// What a new task is made of (the management endpoint's body, or a sandbox default).
#[derive(Debug, Clone)]
pub struct TaskSpec {
    pub dev_id: String,
    pub product_id: String,
    pub target: String,
    pub task_type: u8,
    pub package_kind: u8,
    pub from_version: Option<String>,
    pub manuf: String,
    pub model: String,
    pub signal: i64,
    pub power: i64,
    pub retry: i64,
    pub interval: i64,
}

#[derive(Debug)]
pub struct Task {
    pub id: u64,
    pub spec: TaskSpec,
    pub package: Arc<Package>,
    pub state: TaskState,
    /// Where a paused task goes back to on resume.
    pub paused_from: Option<TaskState>,
    /// "ota_" + 20 alphanumerics, minted when the task is made.
    pub token: String,
    pub token_expires_ms: f64,
    pub last_result: Option<u16>,
    /// Download percent the device last reported through the progress endpoint.
    pub step: u8,
    /// Package bytes handed to response bodies, over every download of this task.
    pub served: Arc<AtomicU64>,
    pub created_ms: f64,
    pub updated_ms: f64,
    /// Carried out by the simulated device itself (`"autonomous": true`).
    pub auto: Option<super::autonomous::AutoRun>,
}

impl Task {
    pub fn size(&self) -> u64 {
        self.package.bytes.len() as u64
    }

    pub fn token_expired(&self, now_ms: f64) -> bool {
        now_ms > self.token_expires_ms
    }

    pub fn set_state(&mut self, state: TaskState, now_ms: f64) {
        self.state = state;
        self.updated_ms = now_ms;
    }

    pub fn view(&self) -> TaskView {
        let spec = &self.spec;
        TaskView {
            id: self.id,
            task_id: self.id,
            dev_id: spec.dev_id.clone(),
            product_id: spec.product_id.clone(),
            target: spec.target.clone(),
            task_type: spec.task_type,
            package: if spec.package_kind == DIFF {
                "diff"
            } else {
                "full"
            },
            from_version: spec.from_version.clone(),
            manuf: spec.manuf.clone(),
            model: spec.model.clone(),
            size: self.size(),
            md5: self.package.md5.clone(),
            signal: spec.signal,
            power: spec.power,
            retry: spec.retry,
            interval: spec.interval,
            state: self.state,
            token: self.token.clone(),
            last_result: self.last_result,
            result: (self.state == TaskState::Failed)
                .then_some(self.last_result)
                .flatten(),
            step: self.step,
            bytes_served: self.served.load(Ordering::Relaxed),
            created_ms: self.created_ms.max(0.0) as u64,
            updated_ms: self.updated_ms.max(0.0) as u64,
            autonomous: self.auto.is_some(),
            progress: match &self.auto {
                Some(_) if self.state == TaskState::Succeeded => 100,
                Some(run) => super::autonomous::progress(run, self.size()),
                None => self.step,
            },
            error: self.auto.as_ref().and_then(|r| r.error).map(str::to_string),
        }
    }
}

/// A task as `/_sim/onenet/tasks` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    /// The task's id (`task_id` too, for older clients).
    pub id: u64,
    pub task_id: u64,
    pub dev_id: String,
    pub product_id: String,
    pub target: String,
    #[serde(rename = "type")]
    pub task_type: u8,
    pub package: &'static str,
    pub from_version: Option<String>,
    pub manuf: String,
    pub model: String,
    pub size: u64,
    pub md5: String,
    pub signal: i64,
    pub power: i64,
    pub retry: i64,
    pub interval: i64,
    pub state: TaskState,
    pub token: String,
    pub last_result: Option<u16>,
    /// The result code of a failed task (why it failed), else null.
    pub result: Option<u16>,
    pub step: u8,
    pub bytes_served: u64,
    /// Simulated ms.
    pub created_ms: u64,
    pub updated_ms: u64,
    /// Carried out by the simulated device on its own.
    pub autonomous: bool,
    /// 0–100: an autonomous task's progress through download and upgrade; else the last reported step.
    pub progress: u8,
    /// Why an autonomous task failed (its result code is `result`).
    pub error: Option<String>,
}

/// Why a download token does not serve the calling device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No task has this token.
    Unknown,
    /// Another device's task.
    Foreign,
    /// The task is unfinished and its token is older than two days.
    Expired,
}

#[derive(Debug, Default)]
pub struct OnenetState {
    pub tasks: Vec<Task>,
    next_id: u64,
    /// Shared packages by (product, target, size): every device of a product updating to one version
    /// downloads the same file.
    packages: HashMap<(String, String, u64), Arc<Package>>,
    /// Module (FOTA) versions devices reported; the application version is the fleet's `firmware`.
    pub module_versions: HashMap<String, String>,
    /// Ids of the autonomous tasks that had not ended when last settled: settling looks at these only,
    /// not at every task (the sandbox gives every OneNET device behind its firmware a task).
    pub autonomous: Vec<u64>,
}

impl OnenetState {
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn shared_package(
        &mut self,
        seed: u64,
        product_id: &str,
        target: &str,
        size: u64,
    ) -> Arc<Package> {
        self.packages
            .entry((product_id.to_string(), target.to_string(), size))
            .or_insert_with(|| {
                let mix = target
                    .bytes()
                    .chain(product_id.bytes())
                    .fold(seed ^ size, |h, b| h.rotate_left(5) ^ u64::from(b));
                Arc::new(Package::generate(mix, size))
            })
            .clone()
    }

    /// Adds task `id`, cancelling the device's unfinished task of the same type (a device has at
    /// most one of each).
    pub fn add(
        &mut self,
        id: u64,
        spec: TaskSpec,
        package: Arc<Package>,
        token: String,
        now: f64,
    ) -> TaskView {
        if let Some(old) = self.open_task_mut(&spec.dev_id, spec.task_type) {
            old.set_state(TaskState::Cancelled, now);
        }
        self.add_first(id, spec, package, token, now)
    }

    /// Adds task `id` for a device that has no unfinished task of its type (the sandbox's seeding, one
    /// task per device: looking for an older one would make seeding a large fleet quadratic).
    pub fn add_first(
        &mut self,
        id: u64,
        spec: TaskSpec,
        package: Arc<Package>,
        token: String,
        now: f64,
    ) -> TaskView {
        let task = Task {
            id,
            spec,
            package,
            state: TaskState::Pending,
            paused_from: None,
            token,
            token_expires_ms: now + TOKEN_TTL_MS,
            last_result: None,
            step: 0,
            served: Default::default(),
            created_ms: now,
            updated_ms: now,
            auto: None,
        };
        let view = task.view();
        self.tasks.push(task);
        view
    }

    pub fn task(&self, id: u64) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    pub fn task_mut(&mut self, id: u64) -> Option<&mut Task> {
        self.tasks.iter_mut().find(|t| t.id == id)
    }

    pub fn by_token(&self, token: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.token == token)
    }

    /// The id of the task behind download token `token`, if it serves device `dev_id` now.
    pub fn for_token(&self, token: &str, dev_id: &str, now: f64) -> Result<u64, TokenProblem> {
        let task = self.by_token(token).ok_or(TokenProblem::Unknown)?;
        if task.spec.dev_id != dev_id {
            return Err(TokenProblem::Foreign);
        }
        if task.state.is_unfinished() && task.token_expired(now) {
            return Err(TokenProblem::Expired);
        }
        Ok(task.id)
    }

    /// The device's unfinished task of a type (paused included).
    pub fn open_task(&self, dev_id: &str, task_type: u8) -> Option<&Task> {
        self.tasks.iter().rev().find(|t| {
            t.spec.dev_id == dev_id && t.spec.task_type == task_type && t.state.is_unfinished()
        })
    }

    pub fn open_task_mut(&mut self, dev_id: &str, task_type: u8) -> Option<&mut Task> {
        self.tasks.iter_mut().rev().find(|t| {
            t.spec.dev_id == dev_id && t.spec.task_type == task_type && t.state.is_unfinished()
        })
    }
}

/// OneNET's version format, `[A-Za-z0-9_.-]{1,20}`.
pub fn valid_version(version: &str) -> bool {
    (1..=20).contains(&version.len())
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The result codes a report may carry: 101–107 after the download, 201–208 after the upgrade.
pub fn known_result(code: i64) -> bool {
    matches!(code, 101..=107 | 201..=208)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_deterministic_and_sized() {
        let a = Package::generate(7, 1001);
        let b = Package::generate(7, 1001);
        assert_eq!(a.bytes.len(), 1001);
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(a.md5.len(), 32);
        assert!(a
            .md5
            .bytes()
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        assert_ne!(Package::generate(8, 1001).md5, a.md5);
    }

    #[test]
    fn versions() {
        for ok in ["V1", "1.2.3", "a_b-c.D", "12345678901234567890"] {
            assert!(valid_version(ok), "{ok}");
        }
        for bad in ["", "V 1", "V1/2", "123456789012345678901", "版本"] {
            assert!(!valid_version(bad), "{bad}");
        }
    }

    #[test]
    fn a_new_task_replaces_the_open_one_of_its_type() {
        let mut state = OnenetState::default();
        let spec = |t: &str, ty| TaskSpec {
            dev_id: "1".into(),
            product_id: "p".into(),
            target: t.into(),
            task_type: ty,
            package_kind: FULL,
            from_version: None,
            manuf: "100".into(),
            model: "10001".into(),
            signal: 0,
            power: 0,
            retry: 0,
            interval: 0,
        };
        let package = Arc::new(Package::generate(1, 4));
        state.add(
            1,
            spec("V2", APPLICATION),
            package.clone(),
            "ota_a".into(),
            0.0,
        );
        state.add(2, spec("M2", MODULE), package.clone(), "ota_b".into(), 0.0);
        state.add(3, spec("V3", APPLICATION), package, "ota_c".into(), 0.0);
        let states: Vec<TaskState> = state.tasks.iter().map(|t| t.state).collect();
        assert_eq!(
            states,
            [TaskState::Cancelled, TaskState::Pending, TaskState::Pending]
        );
        assert_eq!(state.for_token("ota_c", "1", 0.0), Ok(3));
        assert_eq!(
            state.for_token("ota_c", "2", 0.0),
            Err(TokenProblem::Foreign)
        );
        assert_eq!(
            state.for_token("nope", "1", 0.0),
            Err(TokenProblem::Unknown)
        );
        assert_eq!(
            state.for_token("ota_c", "1", TOKEN_TTL_MS + 1.0),
            Err(TokenProblem::Expired)
        );
    }
}
