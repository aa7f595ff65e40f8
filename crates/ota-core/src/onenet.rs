//! OneNET device-side OTA as the window and the CLI see it: the task a check found, a download's
//! progress, the result codes a technician can report and the cloud's answer to a report. The wire
//! format and the rules live in `ota-clouds::onenet`; these are the shapes that cross the IPC edge.
//! `fetch` holds what a caller gives a package fetch (options, the pause switch).

pub mod fetch;

pub use fetch::{pause_switch, FetchOptions, PauseSignal, PauseSwitch};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Which part of the device a task updates (`type` of the check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OnenetTaskType {
    /// `type=1`: the module's firmware (FOTA).
    Module,
    /// `type=2`: the application on the MCU (SOTA).
    Application,
}

impl OnenetTaskType {
    pub fn code(self) -> u8 {
        match self {
            OnenetTaskType::Module => 1,
            OnenetTaskType::Application => 2,
        }
    }

    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(OnenetTaskType::Module),
            2 => Some(OnenetTaskType::Application),
            _ => None,
        }
    }
}

/// Whether the package replaces the firmware or patches the current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OnenetPackageKind {
    Full,
    Diff,
}

/// The device a OneNET call acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OnenetDeviceRef {
    /// Numeric device id.
    pub dev_id: String,
    /// Manufacturer number from OneNET's chip table (e.g. "102" = nordic); None sends none, as the
    /// module SDK does.
    pub manuf: Option<String>,
    /// Chip number (e.g. "10201").
    pub model: Option<String>,
    /// The version the device runs now.
    pub version: String,
    pub task_type: OnenetTaskType,
}

/// An upgrade task found by a check: what to download and the conditions the platform set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OnenetTask {
    pub dev_id: String,
    pub target_version: String,
    /// The download token ("ota_" + 20 characters); valid for two days.
    pub token: String,
    #[ts(type = "number")]
    pub size: u64,
    /// Lower-case hex MD5 of the whole package.
    pub md5: String,
    /// The weakest signal the device may upgrade at (dB as the platform states it).
    #[ts(type = "number | null")]
    pub min_signal: Option<i64>,
    /// The lowest battery level (%) the device may upgrade at.
    #[ts(type = "number | null")]
    pub min_power: Option<i64>,
    /// How many times the device may retry a failed download.
    #[ts(type = "number | null")]
    pub retry: Option<i64>,
    /// Seconds to wait between retries.
    #[ts(type = "number | null")]
    pub interval_secs: Option<i64>,
    pub package: OnenetPackageKind,
    pub task_type: OnenetTaskType,
}

/// A download under way (or just finished): bytes, rate and what is left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OnenetDownloadProgress {
    #[ts(type = "number")]
    pub received: u64,
    #[ts(type = "number")]
    pub total: u64,
    /// Bytes that were already on disk when this run started (a resumed download).
    #[ts(type = "number")]
    pub resumed_from: u64,
    /// Over the last few seconds; None until there is enough to measure.
    pub bytes_per_sec: Option<f64>,
    pub eta_secs: Option<f64>,
    pub phase: OnenetDownloadPhase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OnenetDownloadPhase {
    /// The download token is being checked.
    Checking,
    Downloading,
    /// The connection dropped; the next attempt resumes after the wait the task asks for.
    Waiting,
    /// All bytes are here; the MD5 is being compared.
    Verifying,
    /// Verified and saved; 101 reported.
    Done,
    /// Stopped by the user; the partial file stays for Resume.
    Paused,
    Failed,
}

/// How a fetch ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OnenetFetchOutcome {
    /// The verified package (only set when it matched the MD5).
    pub path: String,
    #[ts(type = "number")]
    pub size: u64,
    pub md5: String,
    /// Bytes this run transferred (less than the size when it resumed).
    #[ts(type = "number")]
    pub bytes_transferred: u64,
    #[ts(type = "number")]
    pub resumed_from: u64,
    /// The report sent for the download (101), in words.
    pub report: OnenetReportAnswer,
}

/// The stage a result code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum OnenetResultStage {
    /// 1xx: reported after the download.
    Download,
    /// 2xx: reported after flashing.
    Upgrade,
}

/// One result code a device (or a technician for it) can report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OnenetResultCode {
    pub code: u16,
    pub stage: OnenetResultStage,
    pub success: bool,
    pub meaning: String,
}

/// What OneNET said to a report, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OnenetReportAnswer {
    pub code: u16,
    pub accepted: bool,
    /// e.g. "OneNET recorded 201: Upgrade succeeded."
    pub message: String,
}

/// How a fetch ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OnenetFetchEnd {
    /// Verified, saved under its name, 101 reported.
    Done { outcome: OnenetFetchOutcome },
    /// Paused by the user; the partial file and its offset are saved for Resume.
    Paused { progress: OnenetDownloadProgress },
}

/// A check as the window shows it: the task (if any) and what is already saved of its package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OnenetCheck {
    pub task: Option<OnenetTask>,
    /// Bytes of the package a paused or cut download left on disk (0 when none).
    #[ts(type = "number")]
    pub saved_bytes: u64,
    /// Where the package is (or will be) saved.
    pub download_path: Option<String>,
}
