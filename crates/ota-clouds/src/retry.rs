//! Retrying idempotent reads: exponential backoff with jitter and a cap, honouring `Retry-After`.
//!
//! Only calls that change nothing may go through here (device lists, status reads). Starting an update is
//! never repeated automatically: the engine decides what to do after a failed start.

use std::future::Future;
use std::time::Duration;

use ota_core::{ApiError, ErrorKind};
use rand::Rng;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (1 = no retry).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Longest wait between attempts.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited out here: the error goes back to the caller (the
    /// window shows it with the wait the cloud asked for).
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
        self.base_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }

    /// How long to wait before trying again after `err`, or `None` when not to try again.
    pub fn delay_after(&self, attempts_made: u32, err: &ApiError) -> Option<Duration> {
        if attempts_made >= self.max_attempts || !is_retryable(err) {
            return None;
        }
        if let Some(secs) = err.retry_after_secs {
            let asked = Duration::from_secs(u64::from(secs));
            return (asked <= self.max_retry_after).then_some(asked);
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

/// Runs `op` until it succeeds, fails for good, or the policy's attempts are spent.
pub async fn retry<T, F, Fut>(policy: &RetryPolicy, what: &str, mut op: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match op().await {
            Ok(value) => return Ok(value),
            Err(err) => match policy.delay_after(attempts, &err) {
                Some(wait) => {
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
}
