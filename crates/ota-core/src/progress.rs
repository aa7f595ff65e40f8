//! The progress model: one mapping from a cloud's raw status to what the user sees, shared by the window
//! and the CLI.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{ApiError, ErrorKind};

/// Where a job is, in words a technician uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum JobPhase {
    /// Asked the cloud to start; the device has not begun downloading.
    Starting,
    Downloading,
    Installing,
    Complete,
    /// Vicohome otaStatus 4, the seed's "Error (failure)": the update failed. The seed does not say in
    /// which step; the cloud's error code (e.g. -10401) is in the job's error.
    Failed,
    /// Vicohome otaStatus 5, the seed's "Error (another type)": the update failed with another kind of
    /// failure; the cloud's error code (e.g. -10402) is in the job's error.
    FailedOther,
    /// Failed before the device started (refused by the cloud or the device).
    Rejected,
}

impl JobPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            JobPhase::Starting => "starting",
            JobPhase::Downloading => "downloading",
            JobPhase::Installing => "installing",
            JobPhase::Complete => "complete",
            JobPhase::Failed => "failed",
            JobPhase::FailedOther => "failed_other",
            JobPhase::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "starting" => JobPhase::Starting,
            "downloading" => JobPhase::Downloading,
            "installing" => JobPhase::Installing,
            "complete" => JobPhase::Complete,
            "failed" => JobPhase::Failed,
            "failed_other" => JobPhase::FailedOther,
            // The names job rows were written with before 4/5 were labelled as the seed says.
            "download_failed" => JobPhase::Failed,
            "install_failed" => JobPhase::FailedOther,
            "rejected" => JobPhase::Rejected,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobPhase::Complete | JobPhase::Failed | JobPhase::FailedOther | JobPhase::Rejected
        )
    }

    pub fn is_failure(self) -> bool {
        matches!(
            self,
            JobPhase::Failed | JobPhase::FailedOther | JobPhase::Rejected
        )
    }
}

/// One observation of a job, already mapped for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProgressSample {
    /// The cloud's own state value (Vicohome `otaStatus`), kept for support.
    pub vendor_state: Option<i32>,
    pub phase: JobPhase,
    /// 0..=100, never lower than an earlier sample of the same job.
    pub percent: u8,
    #[ts(type = "number")]
    pub transferred: u64,
    #[ts(type = "number")]
    pub total: u64,
}

/// Share of the bar the download takes; installing shows 95 %, complete 100 % (as the vendor's app does).
pub const DOWNLOAD_SHARE: u64 = 90;
pub const INSTALLING_PERCENT: u8 = 95;

/// Maps Vicohome's `otaStatus` (the seed's 0 not started, 1 downloading, 2 installing, 3 complete, 4 error
/// (failure), 5 error (another type)) and byte counts to a sample. `previous` is the percent last shown for this job: the bar never runs backwards.
pub fn vicohome_sample(
    ota_status: i32,
    transferred: u64,
    total: u64,
    previous: u8,
) -> ProgressSample {
    // A cloud may report transferred > total (rounding, a re-sent chunk): clamp rather than overflow 90 %.
    let transferred_shown = if total > 0 {
        transferred.min(total)
    } else {
        transferred
    };
    let (phase, percent) = match ota_status {
        0 => (JobPhase::Starting, 0),
        1 => {
            // total = 0 (size not known yet) shows 0 % rather than dividing by zero.
            let pct = transferred_shown
                .saturating_mul(DOWNLOAD_SHARE)
                .checked_div(total)
                .unwrap_or(0) as u8;
            (JobPhase::Downloading, pct)
        }
        2 => (JobPhase::Installing, INSTALLING_PERCENT),
        3 => (JobPhase::Complete, 100),
        4 => (JobPhase::Failed, previous),
        5 => (JobPhase::FailedOther, previous),
        // An unknown state is shown as "still going" at the last known percent rather than guessed.
        _ => (JobPhase::Downloading, previous),
    };
    ProgressSample {
        vendor_state: Some(ota_status),
        phase,
        percent: percent.max(previous).min(100),
        transferred: transferred_shown,
        total,
    }
}

/// What the user reads when the cloud reported otaStatus 4 or 5 without an error code: the seed's words,
/// with the status itself as the vendor's code. (With a code, e.g. -10401, the code's own explanation is
/// shown instead.)
pub fn failure_without_code(sample: ProgressSample) -> ApiError {
    let status = sample.vendor_state.unwrap_or(match sample.phase {
        JobPhase::FailedOther => 5,
        _ => 4,
    });
    let message = match sample.phase {
        JobPhase::FailedOther => "The camera's update failed (another type of failure).",
        _ => "The camera's update failed.",
    };
    ApiError::new(ErrorKind::Device, message)
        .with_hint("Check the camera's power and Wi-Fi signal, then start the update again.")
        .with_vendor_code(format!("otaStatus {status}"))
}

/// "6.3 / 15.0 MiB" style text for the bytes beside the bar.
pub fn format_bytes_progress(transferred: u64, total: u64) -> String {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    format!("{:.1} / {:.1} MiB", mib(transferred), mib(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_mapping() {
        let mib = 1024 * 1024;
        assert_eq!(vicohome_sample(0, 0, 15 * mib, 0).percent, 0);
        let half = vicohome_sample(1, 7 * mib + mib / 2, 15 * mib, 0);
        assert_eq!((half.phase, half.percent), (JobPhase::Downloading, 45));
        assert_eq!(vicohome_sample(1, 15 * mib, 15 * mib, 0).percent, 90);
        assert_eq!(vicohome_sample(2, 15 * mib, 15 * mib, 90).percent, 95);
        assert_eq!(vicohome_sample(3, 15 * mib, 15 * mib, 95).percent, 100);
    }

    #[test]
    fn guards_zero_total_and_overshoot() {
        assert_eq!(vicohome_sample(1, 500, 0, 0).percent, 0);
        let over = vicohome_sample(1, 2000, 1000, 0);
        assert_eq!(over.percent, 90);
        assert_eq!(over.transferred, 1000);
    }

    #[test]
    fn never_runs_backwards() {
        // A late sample with fewer bytes (or the device restarting the download) keeps the bar where it was.
        assert_eq!(vicohome_sample(1, 10, 1000, 60).percent, 60);
        assert_eq!(vicohome_sample(0, 0, 1000, 30).percent, 30);
        let failed = vicohome_sample(4, 400, 1000, 36);
        assert_eq!((failed.phase, failed.percent), (JobPhase::Failed, 36));
        assert_eq!(
            vicohome_sample(5, 1000, 1000, 95).phase,
            JobPhase::FailedOther
        );
    }

    #[test]
    fn phase_names_round_trip_and_old_rows_still_read() {
        for phase in [
            JobPhase::Starting,
            JobPhase::Downloading,
            JobPhase::Installing,
            JobPhase::Complete,
            JobPhase::Failed,
            JobPhase::FailedOther,
            JobPhase::Rejected,
        ] {
            assert_eq!(JobPhase::parse(phase.as_str()), Some(phase));
            assert_eq!(
                serde_json::to_value(phase).unwrap(),
                serde_json::json!(phase.as_str())
            );
        }
        assert_eq!(JobPhase::parse("download_failed"), Some(JobPhase::Failed));
        assert_eq!(
            JobPhase::parse("install_failed"),
            Some(JobPhase::FailedOther)
        );
        assert!(JobPhase::Failed.is_final() && JobPhase::FailedOther.is_failure());
    }

    #[test]
    fn failures_without_a_code_say_what_the_seed_says_and_keep_the_status() {
        let failed = failure_without_code(vicohome_sample(4, 400, 1000, 36));
        assert_eq!(failed.message, "The camera's update failed.");
        assert_eq!(failed.vendor_code.as_deref(), Some("otaStatus 4"));
        assert_eq!(failed.code, ErrorKind::Device);
        let other = failure_without_code(vicohome_sample(5, 1000, 1000, 95));
        assert_eq!(
            other.message,
            "The camera's update failed (another type of failure)."
        );
        assert_eq!(other.vendor_code.as_deref(), Some("otaStatus 5"));
    }

    #[test]
    fn bytes_text() {
        assert_eq!(
            format_bytes_progress(6_606_028, 15_728_640),
            "6.3 / 15.0 MiB"
        );
    }
}
