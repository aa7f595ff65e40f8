//! One camera's firmware update, as a pure function of simulated time: 0 starting (2 s), 1 downloading
//! at 1 MiB/s, 2 installing (20 s), 3 complete; or 4/5 when a fault made it fail.
//!
//! The seed names only "4: Error (failure)" and "5: Error (another type)". The simulator's own choice:
//! a failure while downloading (the `download_fail` fault) ends in 4, one while installing
//! (`install_fail`) in 5; the status answer then carries -10401 or -10402 from the seed's error table.

/// Simulated ms spent in otaStatus 0 before the download starts.
pub const START_MS: f64 = 2_000.0;
/// Simulated download speed.
pub const BYTES_PER_SEC: f64 = 1024.0 * 1024.0;
/// Simulated ms spent installing.
pub const INSTALL_MS: f64 = 20_000.0;
/// Where a `download_fail` stops the download.
pub const DOWNLOAD_FAIL_AT: f64 = 0.4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Starting = 0,
    Downloading = 1,
    Installing = 2,
    Complete = 3,
    /// The seed's "4: Error (failure)".
    Failed = 4,
    /// The seed's "5: Error (another type)".
    FailedOther = 5,
}

impl Phase {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Complete | Phase::Failed | Phase::FailedOther)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Download,
    Install,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub transferred: u64,
}

#[derive(Debug, Clone)]
pub struct OtaRun {
    started_ms: f64,
    pub total_size: u64,
    pub target_firmware: String,
    /// How and when (simulated ms) it fails.
    failure: Option<(Failure, f64)>,
    /// Its firmware has been given to the device.
    pub applied: bool,
    /// `stuck_in_progress`: it never leaves "installing".
    pub stuck: bool,
    /// `version_unchanged`: it ends "complete" but the device keeps its firmware.
    pub keeps_firmware: bool,
}

impl OtaRun {
    pub fn new(started_ms: f64, total_size: u64, target_firmware: String) -> Self {
        Self {
            started_ms,
            total_size,
            target_firmware,
            failure: None,
            applied: false,
            stuck: false,
            keeps_firmware: false,
        }
    }

    fn download_start_ms(&self) -> f64 {
        self.started_ms + START_MS
    }

    fn download_end_ms(&self) -> f64 {
        self.download_start_ms() + self.total_size as f64 / BYTES_PER_SEC * 1000.0
    }

    fn install_end_ms(&self) -> f64 {
        self.download_end_ms() + INSTALL_MS
    }

    fn transferred_at(&self, now: f64) -> u64 {
        let bytes = (now - self.download_start_ms()).max(0.0) / 1000.0 * BYTES_PER_SEC;
        (bytes as u64).min(self.total_size)
    }

    fn natural_phase(&self, now: f64) -> Phase {
        if now < self.download_start_ms() {
            Phase::Starting
        } else if now < self.download_end_ms() {
            Phase::Downloading
        } else if now < self.install_end_ms() || self.stuck {
            Phase::Installing
        } else {
            Phase::Complete
        }
    }

    pub fn progress(&self, now: f64) -> Progress {
        if let Some((failure, at)) = self.failure {
            if now >= at {
                return Progress {
                    phase: match failure {
                        Failure::Download => Phase::Failed,
                        Failure::Install => Phase::FailedOther,
                    },
                    transferred: self.transferred_at(at),
                };
            }
        }
        Progress {
            phase: self.natural_phase(now),
            transferred: self.transferred_at(now),
        }
    }

    /// Makes the run fail: a download failure at ~40 % of the download (or now, if past that), an
    /// install failure halfway through installing (or now). Returns false, changing nothing, when the
    /// run is already past the point where that failure can happen or already doomed.
    pub fn doom(&mut self, failure: Failure, now: f64) -> bool {
        if self.failure.is_some() {
            return false;
        }
        let phase = self.natural_phase(now);
        let at = match failure {
            Failure::Download if matches!(phase, Phase::Starting | Phase::Downloading) => {
                let forty = self.download_start_ms()
                    + DOWNLOAD_FAIL_AT * (self.download_end_ms() - self.download_start_ms());
                forty.max(now)
            }
            Failure::Install if !phase.is_finished() => {
                (self.download_end_ms() + INSTALL_MS / 2.0).max(now)
            }
            _ => return false,
        };
        self.failure = Some((failure, at));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn walks_every_phase_in_order() {
        let run = OtaRun::new(1_000.0, 10 * MIB, "1.5.0".into());
        let at = |ms: f64| run.progress(1_000.0 + ms);
        assert_eq!(at(0.0).phase, Phase::Starting);
        assert_eq!(at(0.0).transferred, 0);
        assert_eq!(at(1_999.0).phase, Phase::Starting);
        let p = at(2_000.0 + 3_000.0);
        assert_eq!(p.phase, Phase::Downloading);
        assert_eq!(p.transferred, 3 * MIB);
        assert_eq!(at(2_000.0 + 10_000.0).phase, Phase::Installing);
        assert_eq!(at(2_000.0 + 10_000.0).transferred, 10 * MIB);
        assert_eq!(at(2_000.0 + 29_999.0).phase, Phase::Installing);
        assert_eq!(at(2_000.0 + 30_000.0).phase, Phase::Complete);
    }

    #[test]
    fn download_failure_stops_at_forty_percent() {
        let mut run = OtaRun::new(0.0, 10 * MIB, "1.5.0".into());
        assert!(run.doom(Failure::Download, 0.0));
        assert!(!run.doom(Failure::Install, 0.0), "one failure per run");
        assert_eq!(run.progress(2_000.0 + 3_000.0).phase, Phase::Downloading);
        let failed = run.progress(2_000.0 + 4_000.0);
        assert_eq!(failed.phase, Phase::Failed);
        assert_eq!(failed.transferred, 4 * MIB);
        assert_eq!(run.progress(1e9), failed);
    }

    #[test]
    fn a_stuck_update_installs_forever() {
        let mut run = OtaRun::new(0.0, MIB, "2.0".into());
        run.stuck = true;
        assert_eq!(run.progress(1e12).phase, Phase::Installing);
    }

    #[test]
    fn install_failure_and_late_faults() {
        let mut run = OtaRun::new(0.0, 10 * MIB, "1.5.0".into());
        // Past 40 %: the download fails where it is.
        assert!(run.doom(Failure::Download, 2_000.0 + 6_000.0));
        assert_eq!(run.progress(8_000.0).transferred, 6 * MIB);

        let mut run = OtaRun::new(0.0, 10 * MIB, "1.5.0".into());
        assert!(!run.doom(Failure::Download, 12_500.0), "already installing");
        assert!(run.doom(Failure::Install, 12_500.0));
        assert_eq!(run.progress(12_000.0 + 9_000.0).phase, Phase::Installing);
        assert_eq!(run.progress(12_000.0 + 10_000.0).phase, Phase::FailedOther);

        let mut done = OtaRun::new(0.0, MIB, "1.5.0".into());
        assert!(!done.doom(Failure::Install, 1e9), "already complete");
    }
}
