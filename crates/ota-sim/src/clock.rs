//! Simulated time: real elapsed time multiplied by the time scale, plus any jumps asked for through the
//! admin API. Everything time-based (OTA progress, token expiry) is computed lazily from it, so the
//! simulator needs no background loop.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct SimClock {
    started: Instant,
    time_scale: f64,
    /// Simulated milliseconds added by `advance`.
    jumped_ms: f64,
}

impl SimClock {
    /// `time_scale` must be finite and above zero (checked by the config).
    pub fn new(time_scale: f64) -> Self {
        Self {
            started: Instant::now(),
            time_scale,
            jumped_ms: 0.0,
        }
    }

    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }

    /// Simulated milliseconds since the simulator started.
    pub fn now_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0 * self.time_scale + self.jumped_ms
    }

    /// Moves simulated time forward without waiting.
    pub fn advance(&mut self, by: Duration) {
        self.jumped_ms += by.as_secs_f64() * 1000.0;
    }

    /// How long, in real time, `simulated` lasts at this scale.
    pub fn real_duration(&self, simulated: Duration) -> Duration {
        Duration::from_secs_f64(simulated.as_secs_f64() / self.time_scale)
    }
}

/// Real wall-clock time in milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Real wall-clock time in seconds since the Unix epoch.
pub fn unix_secs() -> u64 {
    unix_ms() / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_and_advanced() {
        let mut clock = SimClock::new(1000.0);
        std::thread::sleep(Duration::from_millis(5));
        assert!(clock.now_ms() >= 5000.0);
        let before = clock.now_ms();
        clock.advance(Duration::from_secs(60));
        assert!(clock.now_ms() - before >= 60_000.0);
        assert_eq!(
            clock.real_duration(Duration::from_secs(10)),
            Duration::from_millis(10)
        );
    }
}
