//! Quectel upgrade plans as the window and the CLI see them: one row per device and plan with the state a
//! person reads, what may be done with it, each device's answer to a batch action, the auto-upgrade switch
//! and the Bluetooth flow. The wire format and the rules live in `ota-clouds::quectel`; these are the
//! shapes that cross the IPC edge. Times are Unix ms.
//!
//! `plans` and `ble` hold what the Quectel client hands over through
//! [`crate::cloud::QuectelEndUserApi`] (a device's plan, a batch's answers, the Bluetooth plan and report
//! table), from which the service builds these shapes.

pub mod ble;
pub mod plans;

pub use ble::{BlePlan, BleReportStatus, VerifiedPackage};
pub use plans::{BatchOutcome, DeviceResult, PlanTarget, UpgradePlan};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::ApiError;

/// Where a device stands in a plan, from Quectel's `deviceStatus` and `userConfirmStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum QuectelPlanState {
    /// Not upgraded; waiting for the user to confirm, appoint or cancel.
    Waiting,
    /// Confirmed ("upgrade now" or auto mode) but not started yet.
    Confirmed,
    /// A window is appointed; the upgrade starts inside it.
    Appointed,
    Upgrading,
    Succeeded,
    /// The upgrade failed; it may be retried.
    Failed,
    /// Cancelled by the user: the plan ended as "upgrade failed" and cannot be retried.
    Cancelled,
    /// The device already runs the plan's version.
    AlreadyLatest,
    Unknown,
}

impl QuectelPlanState {
    /// True while the cloud is moving the device along by itself (worth polling).
    pub fn is_in_progress(self) -> bool {
        matches!(
            self,
            QuectelPlanState::Confirmed | QuectelPlanState::Upgrading
        )
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            QuectelPlanState::Succeeded
                | QuectelPlanState::Failed
                | QuectelPlanState::Cancelled
                | QuectelPlanState::AlreadyLatest
        )
    }
}

/// What the user decides about plans (`operType` 1, 2, 3, 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum QuectelPlanAction {
    /// Upgrade now.
    Confirm,
    /// Upgrade inside a window (needs a [`QuectelWindow`]).
    Appoint,
    /// End the plan for the device; it ends as "upgrade failed".
    Cancel,
    /// Issue a failed plan again at once.
    Retry,
}

impl QuectelPlanAction {
    pub fn as_str(self) -> &'static str {
        match self {
            QuectelPlanAction::Confirm => "confirm",
            QuectelPlanAction::Appoint => "appoint",
            QuectelPlanAction::Cancel => "cancel",
            QuectelPlanAction::Retry => "retry",
        }
    }
}

/// Which actions the cloud accepts for a row in its current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelPlanActions {
    pub confirm: bool,
    pub appoint: bool,
    pub cancel: bool,
    pub retry: bool,
}

impl QuectelPlanActions {
    pub fn allows(&self, action: QuectelPlanAction) -> bool {
        match action {
            QuectelPlanAction::Confirm => self.confirm,
            QuectelPlanAction::Appoint => self.appoint,
            QuectelPlanAction::Cancel => self.cancel,
            QuectelPlanAction::Retry => self.retry,
        }
    }
}

/// One device's part in one plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelPlanRow {
    #[ts(type = "number")]
    pub account_id: i64,
    pub account_name: String,
    pub device_key: String,
    /// The device's name in the fleet (the deviceKey when the cache has none).
    pub device_name: String,
    pub product_key: String,
    /// A Bluetooth device: the console carries the package (fetch plan → confirm → download → report).
    pub bluetooth: bool,
    #[ts(type = "number")]
    pub plan_id: i64,
    pub plan_name: String,
    pub target_version: String,
    #[ts(type = "number | null")]
    pub plan_start: Option<i64>,
    #[ts(type = "number | null")]
    pub plan_end: Option<i64>,
    #[ts(type = "number | null")]
    pub appoint_start: Option<i64>,
    #[ts(type = "number | null")]
    pub appoint_end: Option<i64>,
    pub state: QuectelPlanState,
    /// Quectel's own codes, for support: `deviceStatus` and `userConfirmStatus`.
    #[ts(type = "number")]
    pub device_status: i64,
    #[ts(type = "number")]
    pub user_confirm_status: i64,
    /// 0..=100.
    pub percent: u8,
    pub actions: QuectelPlanActions,
    /// When the cloud last said this (Unix ms).
    #[ts(type = "number")]
    pub refreshed_at: i64,
    /// True when the row comes from the local cache because the cloud could not be asked.
    pub cached: bool,
}

/// Why one device's (or one account's) plans could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelPlanReadError {
    pub account_name: String,
    /// None when the whole account failed.
    pub device_key: Option<String>,
    pub error: ApiError,
}

/// The plans of every Quectel device of the accounts, newest plan per device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelPlanList {
    pub rows: Vec<QuectelPlanRow>,
    /// How many devices were asked (devices without a plan have no row).
    pub devices: u32,
    /// True when every row is what the cloud says now; false for the cache alone or when some failed.
    pub live: bool,
    pub errors: Vec<QuectelPlanReadError>,
}

/// A device's plan to act on or to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelPlanItem {
    pub device_key: String,
    #[ts(type = "number")]
    pub plan_id: i64,
}

/// An appointed upgrade window (Unix ms): inside the plan period, at least one hour long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelWindow {
    #[ts(type = "number")]
    pub start_ms: i64,
    #[ts(type = "number")]
    pub end_ms: i64,
}

/// One device's answer to a batch action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelActionResult {
    pub device_key: String,
    #[ts(type = "number")]
    pub plan_id: i64,
    pub ok: bool,
    /// Why the cloud (or the console, before sending) refused this device.
    pub error: Option<ApiError>,
}

/// A batch action's answers, with the devices' rows as the cloud shows them right after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelActionReport {
    pub action: QuectelPlanAction,
    pub results: Vec<QuectelActionResult>,
    pub rows: Vec<QuectelPlanRow>,
}

/// The user auto-confirmation switch of a device, as read from the cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelAutoUpgrade {
    pub device_key: String,
    pub on: bool,
}

/// One row of the Bluetooth report table: a step or an outcome the app reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelBleStatus {
    /// `reportStatus` sent.
    pub code: u8,
    /// e.g. "failed-checksum".
    pub name: String,
    pub meaning: String,
    /// Ends the upgrade as failed (or cancelled).
    pub failure: bool,
    /// Ends the upgrade (success or failure), as opposed to a step along the way.
    pub outcome: bool,
}

/// The Bluetooth plan: the package the console downloads and carries to the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelBlePlan {
    pub device_key: String,
    #[ts(type = "number | null")]
    pub plan_id: Option<i64>,
    pub target_version: Option<String>,
    pub component_no: Option<String>,
    pub description: Option<String>,
    pub file_name: Option<String>,
    #[ts(type = "number | null")]
    pub file_size: Option<i64>,
    /// SHA-256 of the package, hex.
    pub file_sign: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum QuectelBlePhase {
    Downloading,
    /// All bytes are here; the SHA-256 is compared with the plan's.
    Verifying,
    /// Verified and saved.
    Done,
    Failed,
}

/// A Bluetooth package download under way (or just finished).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelBleProgress {
    pub device_key: String,
    pub phase: QuectelBlePhase,
    #[ts(type = "number")]
    pub received: u64,
    /// The plan's fileSize, when known.
    #[ts(type = "number | null")]
    pub total: Option<u64>,
    /// 0..=100.
    pub percent: u8,
}

/// A downloaded package whose SHA-256 matched the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelBlePackage {
    pub device_key: String,
    pub path: String,
    #[ts(type = "number")]
    pub size: u64,
    pub sha256: String,
}

/// What Quectel said to a Bluetooth report, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuectelBleReported {
    pub device_key: String,
    pub status: QuectelBleStatus,
    /// e.g. "Quectel recorded 4 (succeeded): the device runs the new firmware."
    pub message: String,
}
