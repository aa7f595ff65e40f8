//! The shapes of campaigns that cross the IPC edge and the CLI's `--json`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{ApiError, ErrorKind};
use crate::model::{Cloud, DeviceQuery};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Created with "require approval" and not approved yet: it cannot start until a user other than its
    /// creator approves it. Derived from the approval columns (stored as `ready`).
    AwaitingApproval,
    /// Created, not started.
    Ready,
    Running,
    /// Nothing new starts; updates already running are still followed.
    Paused,
    Completed,
    /// A wave failed more than its threshold allows; later waves did not start.
    Aborted,
    Cancelled,
}

impl CampaignState {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::AwaitingApproval => "awaiting_approval",
            CampaignState::Ready => "ready",
            CampaignState::Running => "running",
            CampaignState::Paused => "paused",
            CampaignState::Completed => "completed",
            CampaignState::Aborted => "aborted",
            CampaignState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "awaiting_approval" => CampaignState::AwaitingApproval,
            "ready" => CampaignState::Ready,
            "running" => CampaignState::Running,
            "paused" => CampaignState::Paused,
            "completed" => CampaignState::Completed,
            "aborted" => CampaignState::Aborted,
            _ => CampaignState::Cancelled,
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            CampaignState::Completed | CampaignState::Aborted | CampaignState::Cancelled
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CampaignDeviceState {
    /// Waiting for its wave (or for its retry time).
    Pending,
    /// Marked before the start is sent; a restart reads the device's status before doing anything.
    Starting,
    /// The cloud accepted the update; followed until it ends.
    Running,
    Succeeded,
    Failed,
    /// Left out by the pre-flight check.
    Skipped,
    /// The campaign was cancelled before this device started.
    Cancelled,
}

impl CampaignDeviceState {
    pub const ALL: [CampaignDeviceState; 7] = [
        CampaignDeviceState::Pending,
        CampaignDeviceState::Starting,
        CampaignDeviceState::Running,
        CampaignDeviceState::Succeeded,
        CampaignDeviceState::Failed,
        CampaignDeviceState::Skipped,
        CampaignDeviceState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignDeviceState::Pending => "pending",
            CampaignDeviceState::Starting => "starting",
            CampaignDeviceState::Running => "running",
            CampaignDeviceState::Succeeded => "succeeded",
            CampaignDeviceState::Failed => "failed",
            CampaignDeviceState::Skipped => "skipped",
            CampaignDeviceState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .unwrap_or(CampaignDeviceState::Failed)
    }

    pub fn is_in_flight(self) -> bool {
        matches!(
            self,
            CampaignDeviceState::Starting | CampaignDeviceState::Running
        )
    }
}

/// What a wave that failed too much does to the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdAction {
    #[default]
    Abort,
    Pause,
}

/// Automatic retries of failed devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct RetryPolicy {
    /// Further attempts after the first (0 = no automatic retry).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff_secs: u32,
    /// Which failure kinds are worth retrying.
    pub retry_on: Vec<ErrorKind>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 0,
            backoff_secs: 60,
            retry_on: vec![
                ErrorKind::Offline,
                ErrorKind::RateLimited,
                ErrorKind::Retryable,
            ],
        }
    }
}

/// A recurring window (local to `utcOffsetMinutes`) outside which nothing new starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindow {
    /// Days it opens on, 0 = Monday … 6 = Sunday; empty = every day.
    pub days: Vec<u8>,
    /// Minutes after midnight it opens.
    pub start_minute: u16,
    /// Minutes after midnight it closes; before `startMinute` means it closes the next day.
    pub end_minute: u16,
    /// The window's time zone as an offset from UTC.
    pub utc_offset_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct CampaignSettings {
    /// Cumulative share of the targets after each wave, in percent; the last is 100 (e.g. 1, 10, 100).
    pub waves: Vec<f64>,
    /// Devices updating at the same time, at most.
    pub concurrency: u32,
    /// Requests a second to each cloud, at most (starts and status reads together).
    pub requests_per_second: f64,
    /// A wave whose failed share exceeds this (percent) stops the campaign.
    pub failure_threshold_percent: f64,
    pub on_threshold: ThresholdAction,
    pub retry: RetryPolicy,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<MaintenanceWindow>,
    /// Nothing starts before this time (Unix ms).
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_at: Option<i64>,
    /// Battery (percent) under which a device not known to be charging is left out.
    pub min_battery: u8,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            waves: vec![1.0, 10.0, 100.0],
            concurrency: 50,
            requests_per_second: 20.0,
            failure_threshold_percent: 10.0,
            on_threshold: ThresholdAction::Abort,
            retry: RetryPolicy::default(),
            window: None,
            start_at: None,
            min_battery: 20,
        }
    }
}

/// Whether each next wave starts on its own or waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WaveGate {
    /// The next wave starts as soon as the previous one passed (and baked).
    #[default]
    Auto,
    /// The next wave waits for "approve wave" (`otactl campaign approve-wave ID` or the window's button).
    Manual,
}

/// The campaign's rules, chosen when it is created and kept with it (columns of `campaigns`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct CampaignRules {
    /// A wave passes only after it has been complete this long with no failure beyond its threshold
    /// (0 = at once).
    pub bake_secs: u32,
    pub gate: WaveGate,
    /// A device still in progress this long after its start fails as "timed out" (None = no limit but the
    /// engine's own).
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_timeout_secs: Option<u32>,
    /// A device counts as succeeded only when the cloud then reports the target version (on by default).
    pub verify_version: bool,
    /// The campaign waits in "awaiting approval" until a user other than its creator approves it.
    pub require_approval: bool,
    /// Devices that start matching its filter or dynamic cohort later (come online, get the tag) join it,
    /// after the same pre-flight check, until it is closed; it completes only once closed.
    #[serde(default)]
    pub continuous: bool,
}

impl Default for CampaignRules {
    fn default() -> Self {
        Self {
            bake_secs: 0,
            gate: WaveGate::Auto,
            device_timeout_secs: None,
            verify_version: true,
            require_approval: false,
            continuous: false,
        }
    }
}

/// What a campaign that is not finished waits for, when a rule holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum CampaignWait {
    /// Created with "require approval": a user other than its creator must approve it.
    #[serde(rename = "awaiting_approval")]
    AwaitingApproval,
    /// Manual gate: `wave` (0-based) starts after "approve wave".
    #[serde(rename = "awaiting_wave_approval")]
    AwaitingWaveApproval { wave: u32 },
    /// Bake: `wave` (0-based) is complete and passes at `until` (Unix ms) unless it fails meanwhile.
    #[serde(rename = "baking")]
    Baking {
        wave: u32,
        #[ts(type = "number")]
        until: i64,
    },
    /// Continuous and not closed: its devices are done; devices that start matching join it.
    #[serde(rename = "waiting_for_devices")]
    WaitingForDevices,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceKey {
    #[ts(type = "number")]
    pub account_id: i64,
    pub device_id: String,
}

/// Which devices a campaign is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CampaignTargets {
    /// Every cached device matching a device-list filter (paging fields ignored), saved with the campaign.
    Filter { query: DeviceQuery },
    /// An explicit selection.
    Devices { devices: Vec<DeviceKey> },
    /// A cohort's devices: a static cohort's list, a dynamic cohort's current matches.
    Cohort {
        #[serde(rename = "cohortId")]
        #[ts(type = "number")]
        cohort_id: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewCampaign {
    pub name: String,
    #[ts(type = "number")]
    pub firmware_id: i64,
    pub targets: CampaignTargets,
    pub settings: CampaignSettings,
    /// Bake, gate, device timeout, verified success, approval; absent = the defaults.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default)]
    pub rules: Option<CampaignRules>,
}

/// Why the pre-flight check leaves a device out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    WrongCloud,
    WrongModel,
    Offline,
    LowBattery,
    AlreadyOnTarget,
    /// The cloud does not offer this version to the device (publish the firmware first).
    NotOffered,
    /// This cloud or device cannot be updated by a campaign (Bluetooth, no public API).
    Unsupported,
    /// Another update has the device.
    Busy,
    /// Another active campaign has the device (its detail names the campaign).
    InCampaign,
    /// The device is not in the cached fleet.
    Unknown,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::WrongCloud => "wrong_cloud",
            SkipReason::WrongModel => "wrong_model",
            SkipReason::Offline => "offline",
            SkipReason::LowBattery => "low_battery",
            SkipReason::AlreadyOnTarget => "already_on_target",
            SkipReason::NotOffered => "not_offered",
            SkipReason::Unsupported => "unsupported",
            SkipReason::Busy => "busy",
            SkipReason::InCampaign => "in_campaign",
            SkipReason::Unknown => "unknown",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SkipReason::WrongCloud => "Another cloud",
            SkipReason::WrongModel => "Wrong model",
            SkipReason::Offline => "Offline",
            SkipReason::LowBattery => "Low battery",
            SkipReason::AlreadyOnTarget => "Already on the target version",
            SkipReason::NotOffered => "Version not offered by the cloud",
            SkipReason::Unsupported => "Not updatable by a campaign",
            SkipReason::Busy => "Busy with another update",
            SkipReason::InCampaign => "In another campaign",
            SkipReason::Unknown => "Not in the device list",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreflightExclusion {
    #[ts(type = "number")]
    pub account_id: i64,
    pub device_id: String,
    pub name: String,
    pub model: String,
    pub reason: SkipReason,
    /// The reason in words, with this device's figures.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReasonCount {
    pub reason: SkipReason,
    pub label: String,
    pub count: u32,
}

/// What a campaign would do, before it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Preflight {
    pub targets: u32,
    pub eligible: u32,
    /// Devices per wave.
    pub wave_sizes: Vec<u32>,
    pub by_reason: Vec<ReasonCount>,
    /// The devices left out (at most 500 listed; `byReason` counts them all).
    pub excluded: Vec<PreflightExclusion>,
}

/// One wave of a campaign plan: how many devices it gets and when it can start at the earliest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlannedWave {
    /// 0-based, like `WaveSummary.index`.
    pub wave: u32,
    pub devices: u32,
    /// The earliest start (Unix ms) when it is known now (the first wave, started now); null when it
    /// depends on when the previous wave finishes (see `after`) or the window never opens.
    #[ts(type = "number | null")]
    pub earliest_start_ms: Option<i64>,
    /// When it starts, in words: "at once", "when the window opens", "wave 1 done + 30m, inside the
    /// window", "… after approve-wave".
    pub after: String,
}

/// What a campaign would do if it were created and started now: the pre-flight check and, per wave, its
/// devices and its earliest start (the runner's own rule, `rules::earliest_start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CampaignPlan {
    pub preflight: Preflight,
    pub waves: Vec<PlannedWave>,
    /// When the plan was made (Unix ms): "now" for its times.
    #[ts(type = "number")]
    pub planned_at: i64,
}

/// Settings and rules saved under a name, to create campaigns like it (targets and firmware are not
/// kept, nor the start time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CampaignTemplate {
    pub name: String,
    pub settings: CampaignSettings,
    pub rules: CampaignRules,
    pub saved_by: String,
    #[ts(type = "number")]
    pub saved_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StateCounts {
    pub total: u32,
    pub pending: u32,
    pub in_flight: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub skipped: u32,
    pub cancelled: u32,
}

impl StateCounts {
    pub fn add(&mut self, state: CampaignDeviceState, n: u32) {
        self.total += n;
        match state {
            CampaignDeviceState::Pending => self.pending += n,
            CampaignDeviceState::Starting | CampaignDeviceState::Running => self.in_flight += n,
            CampaignDeviceState::Succeeded => self.succeeded += n,
            CampaignDeviceState::Failed => self.failed += n,
            CampaignDeviceState::Skipped => self.skipped += n,
            CampaignDeviceState::Cancelled => self.cancelled += n,
        }
    }

    /// Devices that have not reached an end.
    pub fn open(&self) -> u32 {
        self.pending + self.in_flight
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WaveSummary {
    /// 0-based.
    pub index: u32,
    pub counts: StateCounts,
    /// Failed share of the finished devices, in percent.
    pub failure_percent: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CampaignView {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    #[ts(type = "number")]
    pub firmware_id: i64,
    pub firmware_version: String,
    pub firmware_file: String,
    pub cloud: Cloud,
    pub state: CampaignState,
    pub settings: CampaignSettings,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_filter: Option<DeviceQuery>,
    pub wave_count: u32,
    /// 0-based index of the wave being worked on.
    pub current_wave: u32,
    /// Why it paused or aborted.
    pub reason: Option<String>,
    pub created_by: String,
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number | null")]
    pub started_at: Option<i64>,
    #[ts(type = "number | null")]
    pub finished_at: Option<i64>,
    pub counts: StateCounts,
    pub rules: CampaignRules,
    /// Who approved it (require approval), and when.
    pub approved_by: Option<String>,
    #[ts(type = "number | null")]
    pub approved_at: Option<i64>,
    /// Manual gate: waves up to this 0-based index may start.
    pub wave_approved: u32,
    /// What a rule holds it for now (approval, wave approval, bake, new devices); absent when nothing does.
    pub waiting: Option<CampaignWait>,
    /// Continuous campaign closed (`otactl campaign close`): no device joins any more, and it completes
    /// once its devices are done.
    #[serde(default)]
    pub closed: bool,
    /// The cohort it targets, when it targets one (absent once that cohort is deleted).
    #[ts(type = "number | null")]
    #[serde(default)]
    pub cohort_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FailureGroup {
    pub code: ErrorKind,
    pub vendor_code: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    pub count: u32,
    /// A few of the devices (at most 20).
    pub devices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProgressPoint {
    #[ts(type = "number")]
    pub at: i64,
    pub succeeded: u32,
    pub failed: u32,
    pub in_flight: u32,
    pub pending: u32,
}

/// The runner that holds a campaign's lease: the only one that claims, starts and records its devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CampaignLease {
    /// Random per runner (not shown; it tells two runners of one process apart).
    pub holder: String,
    pub host: String,
    pub pid: u32,
    /// "otactl" or "OTA Console".
    pub program: String,
    #[ts(type = "number")]
    pub acquired_at: i64,
    /// Unless renewed, another runner may take the campaign over after this (Unix ms).
    #[ts(type = "number")]
    pub expires_at: i64,
}

impl CampaignLease {
    /// "otactl pid 812 on host build-3", as the CLI and the dashboard say it.
    pub fn describe(&self) -> String {
        format!("{} pid {} on host {}", self.program, self.pid, self.host)
    }
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CampaignDashboard {
    pub campaign: CampaignView,
    pub waves: Vec<WaveSummary>,
    /// Succeeded share of the finished devices, in percent.
    pub success_percent: f64,
    /// Devices finished a minute, over the last few minutes.
    pub per_minute: f64,
    /// Seconds until every open device is done at that pace; absent when unknown.
    #[ts(type = "number | null")]
    pub eta_secs: Option<u64>,
    /// When the maintenance window opens next, if it is closed now.
    #[ts(type = "number | null")]
    pub window_opens_at: Option<i64>,
    pub failures: Vec<FailureGroup>,
    pub history: Vec<ProgressPoint>,
    /// Who runs the campaign now (a live lease); absent when no runner does.
    #[ts(optional = nullable)]
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default)]
    pub run_by: Option<CampaignLease>,
}

/// One device of a campaign with the cloud's last reported state and its age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CampaignDeviceView {
    #[ts(type = "number")]
    pub account_id: i64,
    pub device_id: String,
    pub name: String,
    pub model: String,
    pub from_version: String,
    pub wave: Option<u32>,
    pub state: CampaignDeviceState,
    pub attempts: u32,
    pub percent: u8,
    /// The cloud's own words for the device's step, as last reported.
    pub remote_state: Option<String>,
    #[ts(type = "number | null")]
    pub reported_at: Option<i64>,
    #[ts(type = "number | null")]
    pub next_attempt_at: Option<i64>,
    pub error: Option<ApiError>,
    #[ts(type = "number | null")]
    pub started_at: Option<i64>,
    #[ts(type = "number | null")]
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct CampaignDeviceQuery {
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<CampaignDeviceState>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wave: Option<u32>,
    pub offset: u32,
    /// 0 = 200.
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CampaignDevicePage {
    pub matching: u32,
    pub rows: Vec<CampaignDeviceView>,
}
