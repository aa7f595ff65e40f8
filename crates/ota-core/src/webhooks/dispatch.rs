//! The dispatcher: sends each webhook the events after its cursor, in audit id order, one at a time.
//!
//! A pass ([`Dispatcher::deliver_pending`]) takes each webhook in turn (holding it with a lease, so a
//! window and `otactl webhooks deliver` never send the same event at once), reads the audit entries after
//! its cursor and, for each that is one of its events, POSTs it signed. An entry younger than
//! [`DeliveryPolicy::settle`] ends the webhook's pass: a store that commits ids out of order (PostgreSQL)
//! may still fill a gap below it. A 2xx moves the cursor past the event; anything else (another status,
//! a timeout, a refused connection) is retried after a capped exponential backoff, in a later pass — the
//! webhook's later events wait behind it, so they arrive in order — until the last attempt, after which
//! the event is given up and the webhook goes on. Every attempt is in the delivery log. The cursor and the
//! attempt are written in one transaction; an answer lost to a crash means the event is sent again with
//! the same `X-OTA-Delivery` id (at least once: receivers drop ids they have seen).
//!
//! [`Dispatcher::run`] repeats passes until told to stop.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::events::{wanted, WebhookEvent};
use super::signing::{sign, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};
use super::{validate_webhook_url, DeliveryOutcome, Webhook};
use crate::console::Console;
use crate::error::ApiError;
use crate::model::now_ms;
use crate::secrets::{Secret, SecretSlot, SecretStore};
use crate::store::webhooks::DeliveryAttempt;
use crate::store::Store;

/// Audit entries read at a time.
const BATCH: u32 = 200;

/// How deliveries are paced. Tests shorten every delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Audit entries younger than this wait for a later pass.
    pub settle: Duration,
    /// The wait after the first failed attempt; it doubles after each next one …
    pub first_retry: Duration,
    /// … up to this.
    pub max_retry: Duration,
    /// Attempts at one event before it is given up (at least 1).
    pub max_attempts: u32,
    /// How long one POST may take, connecting included.
    pub timeout: Duration,
    /// How often [`Dispatcher::run`] makes a pass.
    pub poll: Duration,
}

impl Default for DeliveryPolicy {
    /// 2 s to settle; retries after 1, 2, 4 … s, capped at 60 s, 8 attempts in all (about 3 minutes);
    /// 10 s per POST; a pass every second.
    fn default() -> Self {
        Self {
            settle: Duration::from_secs(2),
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
            max_attempts: 8,
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
        }
    }
}

impl DeliveryPolicy {
    /// The wait after the `failed`-th failed attempt at an event: `first_retry` doubled each time,
    /// capped at `max_retry`.
    pub fn retry_delay(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(30);
        self.first_retry
            .saturating_mul(1 << doublings)
            .min(self.max_retry)
    }

    /// How long a dispatcher holds a webhook without renewing: longer than any one POST.
    fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(30)
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPass {
    /// Events delivered.
    pub delivered: u32,
    /// Attempts that failed and will be retried.
    pub retrying: u32,
    /// Events given up after their last attempt.
    pub failed: u32,
    /// Webhooks whose next event waits for its retry time.
    pub waiting: u32,
    /// Webhooks another dispatcher was delivering to.
    pub busy: u32,
}

/// Sends webhook events; one per process that delivers (the window, `otactl webhooks deliver`).
pub struct Dispatcher {
    store: Store,
    secrets: Arc<dyn SecretStore>,
    instance_id: String,
    http: reqwest::Client,
    policy: DeliveryPolicy,
    /// Random per dispatcher: who holds a webhook's lease.
    holder: String,
}

/// What one POST came to.
struct Sent {
    status: Option<u16>,
    error: Option<String>,
    duration: Duration,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A transport failure in words, with its causes and without the URL (its path may carry a token).
fn describe(err: reqwest::Error, timeout: Duration) -> String {
    let err = err.without_url();
    if err.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let mut words = if err.is_connect() {
        "could not connect".to_string()
    } else {
        err.to_string()
    };
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        words.push_str(": ");
        words.push_str(&cause.to_string());
        source = cause.source();
    }
    words
}

impl Dispatcher {
    /// A dispatcher over the console's store and keychain.
    pub fn new(console: &Console, policy: DeliveryPolicy) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            // A redirect is not followed (it could lead to plain http elsewhere): it is a failed attempt.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("OTA-Console-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::internal(format!("cannot set up the webhook client: {e}")))?;
        Ok(Self {
            store: console.store().clone(),
            secrets: console.secrets().clone(),
            instance_id: console.instance_id().to_string(),
            http,
            policy: policy.clone(),
            holder: crate::campaign::lease::RunnerIdentity::new().holder,
        })
    }

    pub fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }

    /// One pass over every webhook: what is due is sent, `now` (ms) deciding what has settled and which
    /// retries are due.
    pub async fn deliver_pending(&self, now: i64) -> Result<DeliveryPass, ApiError> {
        let mut pass = DeliveryPass::default();
        for webhook in self.store.webhooks()? {
            self.deliver_to(webhook.id, now, &mut pass).await?;
        }
        Ok(pass)
    }

    /// Makes a pass every [`DeliveryPolicy::poll`] until `stop` completes (also mid-pass: an attempt cut
    /// short is made again later). A failing pass is logged, and the next one tries again.
    pub async fn run(&self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                pass = self.deliver_pending(now_ms()) => match pass {
                    Ok(pass) if pass != DeliveryPass::default() => {
                        tracing::debug!(?pass, "webhook deliveries");
                    }
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(error = %err.display_line(), "webhook delivery pass failed");
                    }
                },
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(self.policy.poll) => {}
            }
        }
    }

    fn hold(&self, id: i64) -> Result<Option<Webhook>, ApiError> {
        let now = now_ms();
        Ok(self
            .store
            .claim_webhook(id, &self.holder, now, now + millis(self.policy.lease()))?)
    }

    async fn deliver_to(&self, id: i64, now: i64, pass: &mut DeliveryPass) -> Result<(), ApiError> {
        let Some(webhook) = self.hold(id)? else {
            pass.busy += 1;
            return Ok(());
        };
        let result = self.deliver_held(&webhook, now, pass).await;
        if let Err(err) = self.store.release_webhook(id, &self.holder) {
            tracing::warn!(webhook = id, error = %err, "could not release a webhook");
        }
        result
    }

    /// Sends a held webhook its due events in order, until one fails, waits for its retry, or has not
    /// settled, or none is left.
    async fn deliver_held(
        &self,
        webhook: &Webhook,
        now: i64,
        pass: &mut DeliveryPass,
    ) -> Result<(), ApiError> {
        let settled = now - millis(self.policy.settle);
        let mut cursor = webhook.last_audit_id;
        // Entries passed over (not this webhook's events) since the cursor was last written.
        let mut passed_over: Option<i64> = None;
        let mut secret: Option<Result<Secret, String>> = None;
        let outcome: Result<(), ApiError> = 'entries: loop {
            let entries = self.store.audit_after(cursor, BATCH)?;
            let last_batch = entries.len() < BATCH as usize;
            for entry in entries {
                if entry.at > settled {
                    break 'entries Ok(());
                }
                let event = WebhookEvent::from_audit(&entry)
                    .filter(|event| wanted(&webhook.events, &event.event));
                let Some(event) = event else {
                    cursor = entry.id;
                    passed_over = Some(entry.id);
                    continue;
                };
                if let Some(to) = passed_over.take() {
                    self.store.advance_webhook(webhook.id, &self.holder, to)?;
                }
                let (made, last_at) = self.store.webhook_attempts(webhook.id, entry.id)?;
                if made > 0 && last_at.unwrap_or(0) + millis(self.policy.retry_delay(made)) > now {
                    pass.waiting += 1;
                    break 'entries Ok(());
                }
                if self.hold(webhook.id)?.is_none() {
                    pass.busy += 1;
                    break 'entries Ok(());
                }
                let secret = secret.get_or_insert_with(|| self.secret(webhook.id));
                let at = now_ms();
                let sent = self.send(webhook, &event, secret).await;
                let attempt = made + 1;
                let outcome = match (&sent.error, attempt >= self.policy.max_attempts) {
                    (None, _) => DeliveryOutcome::Delivered,
                    (Some(_), true) => DeliveryOutcome::Failed,
                    (Some(_), false) => DeliveryOutcome::Retrying,
                };
                self.store.record_webhook_attempt(
                    &self.holder,
                    &DeliveryAttempt {
                        webhook_id: webhook.id,
                        audit_id: entry.id,
                        event: &event.event,
                        attempt,
                        status: sent.status,
                        error: sent.error.as_deref(),
                        outcome,
                        at,
                        duration_ms: millis(sent.duration),
                    },
                )?;
                match outcome {
                    DeliveryOutcome::Delivered => pass.delivered += 1,
                    DeliveryOutcome::Failed => {
                        pass.failed += 1;
                        tracing::warn!(webhook = webhook.id, event = %event.event, id = entry.id, attempt, error = sent.error.as_deref().unwrap_or_default(), "webhook event given up");
                    }
                    DeliveryOutcome::Retrying => {
                        pass.retrying += 1;
                        tracing::info!(webhook = webhook.id, event = %event.event, id = entry.id, attempt, error = sent.error.as_deref().unwrap_or_default(), "webhook delivery failed; retrying later");
                        break 'entries Ok(());
                    }
                }
                cursor = entry.id;
            }
            if last_batch {
                break Ok(());
            }
        };
        if let Some(to) = passed_over {
            self.store.advance_webhook(webhook.id, &self.holder, to)?;
        }
        outcome
    }

    fn secret(&self, webhook_id: i64) -> Result<Secret, String> {
        let key = crate::secrets::webhook_key(&self.instance_id, webhook_id);
        match self.secrets.get(&key, SecretSlot::Credential) {
            Ok(Some(secret)) => Ok(secret),
            Ok(None) => Err(format!(
                "no secret for webhook #{webhook_id} in the keychain (nothing was sent): remove the webhook and add it again"
            )),
            Err(err) => Err(format!(
                "the keychain could not be read (nothing was sent): {}",
                ApiError::from(err).message
            )),
        }
    }

    /// POSTs one event, signed; never sends without a secret, nor to a URL the rules refuse.
    async fn send(
        &self,
        webhook: &Webhook,
        event: &WebhookEvent,
        secret: &Result<Secret, String>,
    ) -> Sent {
        let started = Instant::now();
        let answer: Result<u16, (Option<u16>, String)> = async {
            let url = validate_webhook_url(&webhook.url).map_err(|e| (None, e.message))?;
            let secret = secret.as_ref().map_err(|e| (None, e.clone()))?;
            let body = serde_json::to_vec(event)
                .map_err(|e| (None, format!("cannot encode the event: {e}")))?;
            let response = self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(EVENT_HEADER, &event.event)
                .header(DELIVERY_HEADER, event.id.to_string())
                .header(SIGNATURE_HEADER, sign(secret.expose().as_bytes(), &body))
                .body(body)
                .send()
                .await
                .map_err(|e| (None, describe(e, self.policy.timeout)))?;
            let status = response.status();
            if status.is_success() {
                Ok(status.as_u16())
            } else {
                Err((
                    Some(status.as_u16()),
                    format!("the receiver answered HTTP {status}"),
                ))
            }
        }
        .await;
        let (status, error) = match answer {
            Ok(status) => (Some(status), None),
            Err((status, error)) => (status, Some(error)),
        };
        Sent {
            status,
            error,
            duration: started.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let policy = DeliveryPolicy::default();
        let secs: Vec<u64> = (1..=9).map(|n| policy.retry_delay(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(policy.retry_delay(u32::MAX), Duration::from_secs(60));
    }
}
