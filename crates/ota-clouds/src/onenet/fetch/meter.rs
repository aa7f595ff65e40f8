//! Download progress as the user sees it: bytes, rate and ETA.

use std::time::{Duration, Instant};

use ota_core::onenet::{OnenetDownloadPhase, OnenetDownloadProgress};

/// Rate and ETA over the last few seconds; emits at most ten updates a second.
pub(super) struct Meter {
    total: u64,
    resumed_from: u64,
    samples: std::collections::VecDeque<(Instant, u64)>,
    last_emit: Option<Instant>,
}

const METER_WINDOW: Duration = Duration::from_secs(3);
const EMIT_EVERY: Duration = Duration::from_millis(100);

impl Meter {
    pub(super) fn new(total: u64, resumed_from: u64) -> Self {
        Self {
            total,
            resumed_from,
            samples: std::collections::VecDeque::new(),
            last_emit: None,
        }
    }

    pub(super) fn snapshot(
        &mut self,
        received: u64,
        phase: OnenetDownloadPhase,
    ) -> OnenetDownloadProgress {
        let now = Instant::now();
        self.samples.push_back((now, received));
        while self.samples.len() > 2
            && self
                .samples
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > METER_WINDOW)
        {
            self.samples.pop_front();
        }
        let rate = match (self.samples.front(), self.samples.back()) {
            (Some((t0, b0)), Some((t1, b1))) if *t1 > *t0 && b1 > b0 => {
                let secs = t1.duration_since(*t0).as_secs_f64();
                (secs >= 0.05).then(|| (b1 - b0) as f64 / secs)
            }
            _ => None,
        };
        let active = matches!(phase, OnenetDownloadPhase::Downloading);
        let bytes_per_sec = rate.filter(|_| active);
        OnenetDownloadProgress {
            received,
            total: self.total,
            resumed_from: self.resumed_from,
            bytes_per_sec,
            eta_secs: bytes_per_sec
                .filter(|r| *r > 0.0)
                .map(|r| self.total.saturating_sub(received) as f64 / r),
            phase,
        }
    }

    /// A snapshot when one is due (always for phases other than Downloading).
    pub(super) fn tick(
        &mut self,
        received: u64,
        phase: OnenetDownloadPhase,
    ) -> Option<OnenetDownloadProgress> {
        let now = Instant::now();
        let due = phase != OnenetDownloadPhase::Downloading
            || self
                .last_emit
                .is_none_or(|t| now.duration_since(t) >= EMIT_EVERY);
        if !due {
            return None;
        }
        self.last_emit = Some(now);
        Some(self.snapshot(received, phase))
    }
}
