//! Retrying idempotent reads: exponential backoff with jitter and a cap, honouring `Retry-After`.
//!
//! Only calls that change nothing may go through here (device lists, status reads). Starting an update is
//! never repeated automatically: the engine decides what to do after a failed start.
//!
//! # Caps
//!
//! Whatever a [`RetryPolicy`], a OneNET task (`retry`, `interval`) or a cloud's `Retry-After` asks for,
//! these hold, so no answer from outside can park a window or a CLI for hours:
//!
//! - **One wait** is at most [`MAX_SINGLE_WAIT`] (60 s). A `Retry-After` above a policy's
//!   `max_retry_after` (itself never above 60 s) is not waited out at all: the error goes back to the
//!   caller with the wait the cloud asked for, so the user sees it instead of a spinner.
//! - **Attempts**: at most [`MAX_ATTEMPTS`] (10) calls in one loop, the first included.
//! - **Total**: the waits of one loop add up to at most [`MAX_TOTAL_WAIT`] (5 min); a wait that would pass
//!   it ends the loop with the last error instead.
//!
//! The OneNET download ([`crate::onenet::fetch`]) applies the same caps to its own loop (chunk retries
//! after a cut), counted per run of consecutive failures.

use std::future::Future;
use std::time::Duration;

use ota_core::{ApiError, ErrorKind};
use rand::Rng;

/// The longest single wait between two attempts, whatever was asked (see the module's caps).
pub const MAX_SINGLE_WAIT: Duration = Duration::from_secs(60);
/// The most calls one retry loop makes, the first one included.
pub const MAX_ATTEMPTS: u32 = 10;
/// The most time the waits of one retry loop add up to.
pub const MAX_TOTAL_WAIT: Duration = Duration::from_secs(300);

/// `wait`, or [`MAX_SINGLE_WAIT`] when it is longer.
pub fn capped_wait(wait: Duration) -> Duration {
    wait.min(MAX_SINGLE_WAIT)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (1 = no retry); never more than [`MAX_ATTEMPTS`].
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Longest wait between attempts; never more than [`MAX_SINGLE_WAIT`].
    pub max_delay: Duration,
    /// A `Retry-After` longer than this (or than [`MAX_SINGLE_WAIT`]) is not waited out here: the error
    /// goes back to the caller (the window shows it with the wait the cloud asked for).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(400),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff before attempt `next_attempt` (2 for the first retry), without jitter.
    pub fn backoff(&self, next_attempt: u32) -> Duration {
        let doublings = next_attempt.saturating_sub(2).min(16);
        capped_wait(
            self.base_delay
                .saturating_mul(1u32 << doublings)
                .min(self.max_delay),
        )
    }

    /// How long to wait before trying again after `err`, or `None` when not to try again.
    pub fn delay_after(&self, attempts_made: u32, err: &ApiError) -> Option<Duration> {
        if attempts_made >= self.max_attempts.min(MAX_ATTEMPTS) || !is_retryable(err) {
            return None;
        }
        if let Some(secs) = err.retry_after_secs {
            let asked = Duration::from_secs(u64::from(secs));
            return (asked <= capped_wait(self.max_retry_after)).then_some(asked);
        }
        let ceiling = self.backoff(attempts_made + 1);
        // "Equal jitter": at least half the backoff, so retries still spread out but never hammer.
        let half = ceiling / 2;
        let spread = rand::thread_rng().gen_range(0..=half.as_millis().max(1) as u64);
        Some(half + Duration::from_millis(spread))
    }
}

/// Whether an error is worth the same call again: rate limits, 5xx, unreadable answers, timeouts and
/// unreachable hosts — but not a rejected certificate, which the next attempt would meet again, nor a
/// cloud saying the *device* is offline (a vendor code): seconds later it still will be, and the job
/// watcher has its own, longer patience for that.
pub fn is_retryable(err: &ApiError) -> bool {
    match err.code {
        ErrorKind::RateLimited | ErrorKind::Retryable => true,
        ErrorKind::Offline => {
            err.vendor_code.is_none() && !crate::http::is_certificate_rejection(err)
        }
        _ => false,
    }
}

/// Runs `op` until it succeeds, fails for good, or the policy's attempts (or the caps) are spent.
pub async fn retry<T, F, Fut>(policy: &RetryPolicy, what: &str, mut op: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut attempts = 0;
    let mut waited = Duration::ZERO;
    loop {
        attempts += 1;
        match op().await {
            Ok(value) => return Ok(value),
            Err(err) => match policy.delay_after(attempts, &err) {
                Some(wait) if waited + wait > MAX_TOTAL_WAIT => {
                    tracing::info!(
                        what,
                        attempt = attempts,
                        waited_ms = waited.as_millis() as u64,
                        "retries gave up: their waits would pass the total cap"
                    );
                    return Err(err);
                }
                Some(wait) => {
                    waited += wait;
                    tracing::info!(what, attempt = attempts, wait_ms = wait.as_millis() as u64,
                        error = %err.display_line(), "retrying");
                    tokio::time::sleep(wait).await;
                }
                None => return Err(err),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(1),
        };
        assert_eq!(policy.backoff(2), Duration::from_millis(100));
        assert_eq!(policy.backoff(3), Duration::from_millis(200));
        assert_eq!(policy.backoff(4), Duration::from_millis(350));
        assert_eq!(policy.backoff(40), Duration::from_millis(350));
        let retryable = ApiError::new(ErrorKind::Retryable, "x");
        for _ in 0..50 {
            let wait = policy.delay_after(1, &retryable).unwrap();
            assert!(
                wait >= Duration::from_millis(50) && wait <= Duration::from_millis(101),
                "{wait:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_honoured_or_handed_back() {
        let policy = fast();
        let mut limited = ApiError::new(ErrorKind::RateLimited, "slow down");
        limited.retry_after_secs = Some(1);
        assert_eq!(
            policy.delay_after(1, &limited),
            Some(Duration::from_secs(1))
        );
        limited.retry_after_secs = Some(120);
        assert_eq!(policy.delay_after(1, &limited), None);
    }

    #[test]
    fn permanent_failures_are_not_retried() {
        let policy = fast();
        for kind in [
            ErrorKind::Auth,
            ErrorKind::Validation,
            ErrorKind::Device,
            ErrorKind::NotFound,
        ] {
            assert_eq!(policy.delay_after(1, &ApiError::new(kind, "no")), None);
        }
        let cert = ApiError::new(
            ErrorKind::Offline,
            "Cannot reach example.com: its certificate was rejected.",
        );
        assert!(!is_retryable(&cert));
        assert!(is_retryable(&ApiError::new(
            ErrorKind::Offline,
            "Cannot reach example.com."
        )));
        let camera_offline =
            ApiError::new(ErrorKind::Offline, "The camera is offline.").with_vendor_code("-101");
        assert!(!is_retryable(&camera_offline));
    }

    #[tokio::test]
    async fn retries_until_success_within_the_attempts() {
        let calls = AtomicU32::new(0);
        let result = retry(&fast(), "test", || async {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            if n < 3 {
                Err(ApiError::new(ErrorKind::Retryable, "flaky"))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 3);

        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry(&fast(), "test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ApiError::new(ErrorKind::Retryable, "down"))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    /// A policy that asks for far more than the caps allow, as a careless caller might.
    fn unbounded() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1_000,
            base_delay: Duration::from_secs(3_600),
            max_delay: Duration::from_secs(86_400),
            max_retry_after: Duration::from_secs(86_400),
        }
    }

    fn rate_limited(retry_after_secs: u32) -> ApiError {
        let mut err = ApiError::new(ErrorKind::RateLimited, "slow down");
        err.retry_after_secs = Some(retry_after_secs);
        err
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_of_a_day_is_handed_back_at_once_not_waited_out() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<(), _> = retry(&unbounded(), "test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(rate_limited(86_400))
        })
        .await;
        let err = result.unwrap_err();
        assert_eq!(
            err.retry_after_secs,
            Some(86_400),
            "the cloud's wait is kept for the user"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            started.elapsed() <= MAX_SINGLE_WAIT,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_under_the_cap_is_waited_out_exactly() {
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result = retry(&unbounded(), "test", || async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(rate_limited(45))
            } else {
                Ok(())
            }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(started.elapsed(), Duration::from_secs(45));
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_attempts_and_total_wait_are_capped_whatever_the_policy_says() {
        assert_eq!(unbounded().backoff(2), MAX_SINGLE_WAIT);
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<(), _> = retry(&unbounded(), "test", || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(ApiError::new(ErrorKind::Retryable, "down"))
        })
        .await;
        assert!(result.is_err());
        let calls = calls.load(Ordering::SeqCst);
        assert!((2..=MAX_ATTEMPTS).contains(&calls), "{calls} calls");
        assert!(
            started.elapsed() <= MAX_TOTAL_WAIT,
            "{:?}",
            started.elapsed()
        );
    }
}
