//! Bluetooth updates of Quectel devices as the client hands them over: the plan the app carries to the
//! device, the steps and outcomes it reports, and a downloaded package that passed its check. How the
//! cloud's JSON decodes into these is `ota-clouds::quectel`'s business.
//!
//! Quectel does not publish what the `reportStatus` codes 0–12 mean; [`BleReportStatus`] is our mapping,
//! kept in ONE table ([`REPORT_STATUSES`]) so a correction is one line.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What the app reports about a Bluetooth upgrade (`reportStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BleReportStatus {
    Confirmed,
    Downloading,
    Downloaded,
    Installing,
    Succeeded,
    FailedDownload,
    FailedChecksum,
    FailedInstall,
    FailedLowBattery,
    FailedDisconnected,
    CancelledByUser,
    FailedTimeout,
    FailedUnknown,
}

/// THE table: code, status, CLI name, meaning.
pub const REPORT_STATUSES: &[(i64, BleReportStatus, &str, &str)] = &[
    (
        0,
        BleReportStatus::Confirmed,
        "confirmed",
        "the user confirmed the upgrade",
    ),
    (
        1,
        BleReportStatus::Downloading,
        "downloading",
        "the app is downloading the package",
    ),
    (
        2,
        BleReportStatus::Downloaded,
        "downloaded",
        "the package is downloaded and its SHA-256 verified",
    ),
    (
        3,
        BleReportStatus::Installing,
        "installing",
        "the app is sending the package to the device over BLE",
    ),
    (
        4,
        BleReportStatus::Succeeded,
        "succeeded",
        "the device runs the new firmware",
    ),
    (
        5,
        BleReportStatus::FailedDownload,
        "failed-download",
        "failed: the package could not be downloaded",
    ),
    (
        6,
        BleReportStatus::FailedChecksum,
        "failed-checksum",
        "failed: the package's SHA-256 did not match fileSign",
    ),
    (
        7,
        BleReportStatus::FailedInstall,
        "failed-install",
        "failed: the device could not install the package",
    ),
    (
        8,
        BleReportStatus::FailedLowBattery,
        "failed-low-battery",
        "failed: the device's battery is too low",
    ),
    (
        9,
        BleReportStatus::FailedDisconnected,
        "failed-disconnected",
        "failed: the Bluetooth connection dropped",
    ),
    (
        10,
        BleReportStatus::CancelledByUser,
        "cancelled",
        "cancelled by the user",
    ),
    (
        11,
        BleReportStatus::FailedTimeout,
        "failed-timeout",
        "failed: the device did not answer in time",
    ),
    (
        12,
        BleReportStatus::FailedUnknown,
        "failed-unknown",
        "failed for another reason",
    ),
];

impl BleReportStatus {
    pub fn all() -> impl Iterator<Item = BleReportStatus> {
        REPORT_STATUSES.iter().map(|row| row.1)
    }

    fn row(self) -> &'static (i64, BleReportStatus, &'static str, &'static str) {
        // Every variant has a row (checked by a test); the last row is the fallback.
        REPORT_STATUSES
            .iter()
            .find(|row| row.1 == self)
            .unwrap_or(&REPORT_STATUSES[REPORT_STATUSES.len() - 1])
    }

    /// The `reportStatus` code sent.
    pub fn code(self) -> i64 {
        self.row().0
    }

    /// The CLI name, e.g. "failed-checksum".
    pub fn name(self) -> &'static str {
        self.row().2
    }

    pub fn meaning(self) -> &'static str {
        self.row().3
    }

    pub fn from_code(code: i64) -> Option<Self> {
        REPORT_STATUSES
            .iter()
            .find(|row| row.0 == code)
            .map(|row| row.1)
    }

    /// By CLI name or code.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(code) = text.parse::<i64>() {
            return Self::from_code(code);
        }
        REPORT_STATUSES
            .iter()
            .find(|row| row.2.eq_ignore_ascii_case(text))
            .map(|row| row.1)
    }

    pub fn is_failure(self) -> bool {
        self.code() >= 5
    }
}

/// `getFetchPlan` data: the package the app carries to the device. `Debug` shows `fileUrl` without its
/// query, which on a CDN may be a signature that grants the download.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BlePlan {
    pub target_version: Option<String>,
    pub component_no: Option<String>,
    pub desc: Option<String>,
    pub file_name: Option<String>,
    pub file_url: Option<String>,
    pub file_size: Option<i64>,
    /// SHA-256, hex.
    pub file_sign: Option<String>,
    pub plan_id: Option<i64>,
}

impl std::fmt::Debug for BlePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file_url = self
            .file_url
            .as_deref()
            .map(|url| match url.split_once('?') {
                Some((path, _)) => format!("{path}?<redacted>"),
                None => url.to_string(),
            });
        f.debug_struct("BlePlan")
            .field("target_version", &self.target_version)
            .field("component_no", &self.component_no)
            .field("desc", &self.desc)
            .field("file_name", &self.file_name)
            .field("file_url", &file_url)
            .field("file_size", &self.file_size)
            .field("file_sign", &self.file_sign)
            .field("plan_id", &self.plan_id)
            .finish()
    }
}

/// A package on disk whose SHA-256 matched the plan's `fileSign`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPackage {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_status_and_codes_0_to_12() {
        let codes: Vec<i64> = BleReportStatus::all().map(BleReportStatus::code).collect();
        assert_eq!(codes, (0..=12).collect::<Vec<_>>());
        for status in BleReportStatus::all() {
            assert_eq!(BleReportStatus::from_code(status.code()), Some(status));
            assert_eq!(BleReportStatus::parse(status.name()), Some(status));
        }
        assert_eq!(
            BleReportStatus::parse("6"),
            Some(BleReportStatus::FailedChecksum)
        );
        assert!(BleReportStatus::FailedChecksum.is_failure());
        assert!(!BleReportStatus::Succeeded.is_failure());
        assert_eq!(BleReportStatus::parse("13"), None);
    }

    #[test]
    fn debug_of_a_plan_hides_the_download_signature() {
        let plan = BlePlan {
            plan_id: Some(3),
            file_sign: Some("ab".into()),
            file_url: Some(
                "https://cdn.example.com/fw/1.bin?Expires=9&Signature=SIG-SECRET".into(),
            ),
            ..BlePlan::default()
        };
        let shown = format!("{plan:?}");
        assert!(!shown.contains("SIG-SECRET"), "{shown}");
        assert!(
            shown.contains("https://cdn.example.com/fw/1.bin?<redacted>"),
            "{shown}"
        );
    }

    #[test]
    fn plans_print_in_the_clouds_names() {
        let plan = BlePlan {
            component_no: Some("1".into()),
            file_size: Some(10),
            ..BlePlan::default()
        };
        let printed = serde_json::to_value(&plan).unwrap();
        assert_eq!(printed["componentNo"], "1");
        assert_eq!(printed["fileSize"], 10);
        assert_eq!(printed.as_object().unwrap().len(), 8);
    }
}
