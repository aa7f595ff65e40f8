//! Timing what a reader asks while something else runs: a thread that repeats a set of named queries at a
//! steady pace until it is told to stop, and the latency figures of each (median, 95th percentile, worst).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The latencies one query took, sorted.
pub struct Latencies {
    sorted: Vec<Duration>,
}

impl Latencies {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self { sorted: samples }
    }

    pub fn count(&self) -> usize {
        self.sorted.len()
    }

    /// The `p`-th percentile (nearest rank), zero when nothing was measured.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    pub fn median(&self) -> Duration {
        self.percentile(50.0)
    }

    pub fn worst(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }
}

/// A query the probe repeats; an error stops the probe (a failing query is not a fast one).
pub type Query = Box<dyn FnMut() -> anyhow::Result<()> + Send>;

/// Repeats each query every `every` on its own thread until [`Probe::finish`].
pub struct Probe {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<anyhow::Result<Probed>>,
}

/// What a probe measured: each query's latencies, in the order the queries were given, and the CPU time
/// its thread used (so that it can be told apart from the work being watched).
pub struct Probed {
    pub latencies: Vec<Latencies>,
    pub cpu: Duration,
}

impl Probe {
    pub fn start(mut queries: Vec<Query>, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let cpu_before = crate::sys::thread_cpu_time();
                let mut samples = vec![Vec::new(); queries.len()];
                while !stop.load(Ordering::Relaxed) {
                    let round = Instant::now();
                    for (query, taken) in queries.iter_mut().zip(&mut samples) {
                        let started = Instant::now();
                        query()?;
                        taken.push(started.elapsed());
                    }
                    std::thread::sleep(every.saturating_sub(round.elapsed()));
                }
                Ok(Probed {
                    latencies: samples.into_iter().map(Latencies::new).collect(),
                    cpu: crate::sys::thread_cpu_time().saturating_sub(cpu_before),
                })
            })
        };
        Self { stop, thread }
    }

    /// Stops the probe and hands back what it measured.
    pub fn finish(self) -> anyhow::Result<Probed> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the probe thread panicked"))?
    }
}

/// Times `query` `times` times in a row (the idle baseline of a probed query).
pub fn repeat(
    times: usize,
    mut query: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Latencies> {
    let mut samples = Vec::with_capacity(times);
    for _ in 0..times {
        let started = Instant::now();
        query()?;
        samples.push(started.elapsed());
    }
    Ok(Latencies::new(samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let ms = |n: u64| Duration::from_millis(n);
        let l = Latencies::new((1..=20).rev().map(ms).collect());
        assert_eq!(l.count(), 20);
        assert_eq!(l.median(), ms(10));
        assert_eq!(l.percentile(95.0), ms(19));
        assert_eq!(l.worst(), ms(20));
        assert_eq!(Latencies::new(Vec::new()).percentile(95.0), Duration::ZERO);
    }
}
