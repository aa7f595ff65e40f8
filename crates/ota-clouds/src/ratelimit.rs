//! One request-rate limit per cloud host, for the whole process: the window's refreshes, a campaign's
//! starts and polls, and an `otactl` run all draw from the same bucket, so together they stay under what a
//! cloud tolerates instead of each backing off from 429s on its own. Token bucket: `burst` requests at
//! once, then `per_sec`. A request that finds the bucket empty reserves the next slot and waits for it,
//! so waiters are served in order.
//!
//! Real clouds get [`DEFAULT_RATE`] unless configured; loopback hosts (the simulator) are unlimited
//! unless a test configures them.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_sec: f64,
    pub burst: f64,
}

/// What the console allows itself against one cloud host when nothing else is known: well under the
/// rates the vendors' own apps use for polling.
pub const DEFAULT_RATE: Rate = Rate {
    per_sec: 20.0,
    burst: 40.0,
};

struct Bucket {
    rate: Rate,
    tokens: f64,
    last: Instant,
}

#[derive(Default)]
struct Registry {
    configured: HashMap<String, Option<Rate>>,
    buckets: HashMap<String, Bucket>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

fn is_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name == "localhost" || name == "::1" || name.starts_with("127.")
}

/// Sets the limit for `host` ("host" or "host:port" as the clients name it); None = unlimited.
pub fn set_rate(host: &str, rate: Option<Rate>) {
    let mut registry = registry().lock().unwrap_or_else(|p| p.into_inner());
    registry.configured.insert(host.to_string(), rate);
    registry.buckets.remove(host);
}

fn rate_for(registry: &Registry, host: &str) -> Option<Rate> {
    match registry.configured.get(host) {
        Some(configured) => *configured,
        None if is_loopback(host) => None,
        None => Some(DEFAULT_RATE),
    }
}

/// Waits until a request to `host` may be sent.
pub async fn acquire(host: &str) {
    let wait = {
        let mut registry = registry().lock().unwrap_or_else(|p| p.into_inner());
        let Some(rate) = rate_for(&registry, host) else {
            return;
        };
        let now = Instant::now();
        let bucket = registry
            .buckets
            .entry(host.to_string())
            .or_insert_with(|| Bucket {
                rate,
                tokens: rate.burst,
                last: now,
            });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * bucket.rate.per_sec).min(bucket.rate.burst);
        bucket.last = now;
        bucket.tokens -= 1.0;
        if bucket.tokens >= 0.0 {
            None
        } else {
            Some(Duration::from_secs_f64(
                -bucket.tokens / bucket.rate.per_sec,
            ))
        }
    };
    if let Some(wait) = wait {
        tracing::debug!(
            host,
            wait_ms = wait.as_millis() as u64,
            "request rate limit"
        );
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_the_rate_in_order() {
        let host = "limited.example:443";
        set_rate(
            host,
            Some(Rate {
                per_sec: 5.0,
                burst: 2.0,
            }),
        );
        let start = Instant::now();
        let mut done = Vec::new();
        for _ in 0..12 {
            acquire(host).await;
            done.push(start.elapsed());
        }
        // Two at once, then one every 200 ms (virtual time: this test does not depend on the machine).
        assert_eq!(done[1], Duration::ZERO);
        let last = done[11].as_secs_f64();
        assert!((1.99..=2.01).contains(&last), "{last}");
        assert!(done.windows(2).all(|w| w[0] <= w[1]));
    }

    #[tokio::test(start_paused = true)]
    async fn loopback_is_unlimited_unless_configured_and_others_get_the_default() {
        let start = Instant::now();
        for _ in 0..1000 {
            acquire("127.0.0.1:4000").await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        let host = "api.unlisted.example";
        let start = Instant::now();
        for _ in 0..(DEFAULT_RATE.burst as usize + 20) {
            acquire(host).await;
        }
        let took = start.elapsed().as_secs_f64();
        assert!((0.99..=1.01).contains(&took), "{took}");
        assert!(
            is_loopback("localhost:8080")
                && is_loopback("[::1]:1")
                && !is_loopback("ota.heclouds.com")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_bucket() {
        let host = "shared.example";
        set_rate(
            host,
            Some(Rate {
                per_sec: 10.0,
                burst: 1.0,
            }),
        );
        let start = Instant::now();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                tokio::spawn(async move {
                    for _ in 0..10 {
                        acquire(host).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // 30 requests, 1 at once then 10 a second: 2.9 s whoever asks.
        let took = start.elapsed().as_secs_f64();
        assert!((2.89..=2.91).contains(&took), "{took}");
    }
}
