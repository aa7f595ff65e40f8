//! Webhooks for campaign events (issue 16, team mode): campaign started, resumed, wave passed, device
//! failures over the threshold, paused, aborted, completed, cancelled — POSTed as signed JSON to the
//! webhooks that chose them.
//!
//! The audit log is the outbox. Every campaign change is audited in the transaction that makes it, so an
//! event exists exactly when its change does; each webhook keeps a cursor into the log, and the
//! [`dispatch::Dispatcher`] sends the events after it, in audit id order, moving the cursor past an event
//! only once it was delivered or given up (after a capped number of attempts with capped exponential
//! backoff). Every attempt is in the delivery log. The signing secret is in the OS keychain
//! ([`crate::secrets::webhook_key`]), never in the database; URLs are `https://` (plain http to loopback
//! for tests). The SQL is in `store/webhooks.rs`.

pub mod address;
pub mod dispatch;
pub mod events;
pub mod signing;

pub use address::validate_webhook_url;
pub use dispatch::{DeliveryPass, DeliveryPolicy, Dispatcher};
pub use events::{WebhookEvent, EVENTS};
pub use signing::{sign, verify, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::console::Console;
use crate::error::ApiError;
use crate::secrets::{Secret, SecretSlot};

/// A webhook as the list shows it (its secret is in the keychain, never here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    #[ts(type = "number")]
    pub id: i64,
    pub url: String,
    /// Its event patterns: `campaign.*` or exact names.
    pub events: Vec<String>,
    /// The last audit entry handled: events after it are still to send.
    #[ts(type = "number")]
    pub last_audit_id: i64,
    pub created_by: String,
    #[ts(type = "number")]
    pub created_at: i64,
    /// Its newest delivery attempt, if any.
    pub last_delivery: Option<WebhookDelivery>,
}

/// A webhook to add: where to, and which events (patterns). The secret travels apart, as a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed; another attempt follows after the backoff.
    Retrying,
    /// The last attempt failed: the event was given up and the webhook went on with the next.
    Failed,
}

impl DeliveryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Retrying => "retrying",
            DeliveryOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "delivered" => DeliveryOutcome::Delivered,
            "retrying" => DeliveryOutcome::Retrying,
            "failed" => DeliveryOutcome::Failed,
            _ => return None,
        })
    }
}

/// One attempt at delivering one event to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub webhook_id: i64,
    /// The event's id (its audit entry's): `X-OTA-Delivery`.
    #[ts(type = "number")]
    pub audit_id: i64,
    pub event: String,
    /// 1 for the first attempt at this event.
    pub attempt: u32,
    /// The receiver's HTTP status; none when no answer came.
    pub status: Option<u16>,
    /// What went wrong, when it did.
    pub error: Option<String>,
    pub outcome: DeliveryOutcome,
    #[ts(type = "number")]
    pub at: i64,
    #[ts(type = "number")]
    pub duration_ms: i64,
}

/// The URL and patterns as they would be kept, or why not: checked before a secret is asked for.
pub fn check(new: &NewWebhook) -> Result<(url::Url, Vec<String>), ApiError> {
    let url = validate_webhook_url(&new.url)?;
    let events = events::normalize_patterns(&new.events)?;
    Ok((url, events))
}

/// Where a webhook's secret is filed in the keychain.
pub fn secret_key(console: &Console, webhook_id: i64) -> String {
    crate::secrets::webhook_key(console.instance_id(), webhook_id)
}

/// Adds a webhook: the URL and patterns to SQLite, the secret to the keychain (refused when empty). If
/// the secret cannot be stored, nothing is kept. It is sent the events that happen from now on. Audited
/// (`webhook.add`, naming the URL's origin only: a path may carry a token).
pub fn add(console: &Console, new: &NewWebhook, secret: Secret) -> Result<Webhook, ApiError> {
    let result = (|| {
        let (url, events) = check(new)?;
        if secret.expose().trim().is_empty() {
            return Err(ApiError::validation("The webhook secret is empty.").with_hint(
                "Give a secret (e.g. `openssl rand -hex 32`): every delivery is signed with it, and the receiver checks it.",
            ));
        }
        let webhook = console
            .store()
            .add_webhook(url.as_str(), &events, console.actor())?;
        if let Err(err) = console.secrets().set(
            &secret_key(console, webhook.id),
            SecretSlot::Credential,
            &secret,
        ) {
            if let Err(undo) = console.store().delete_webhook(webhook.id) {
                tracing::error!(webhook = webhook.id, error = %undo, "could not undo a webhook whose secret was not stored");
            }
            return Err(ApiError::from(err));
        }
        Ok(webhook)
    })();
    console.audit(
        "webhook.add",
        None,
        Some(&match &result {
            Ok(w) => format!(
                "webhook #{} {} ({})",
                w.id,
                address::origin_of(&w.url),
                w.events.join(",")
            ),
            Err(_) => format!("webhook {}", address::origin_of(new.url.trim())),
        }),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    result
}

/// Every webhook, with its last delivery attempt.
pub fn list(console: &Console) -> Result<Vec<Webhook>, ApiError> {
    Ok(console.store().webhooks()?)
}

/// Removes a webhook, its delivery log and its keychain entry. Audited (`webhook.remove`).
pub fn remove(console: &Console, id: i64) -> Result<Webhook, ApiError> {
    let result = console.store().delete_webhook(id).map_err(ApiError::from);
    if result.is_ok() {
        if let Err(err) = console
            .secrets()
            .delete(&secret_key(console, id), SecretSlot::Credential)
        {
            tracing::warn!(webhook = id, error = %err, "could not delete the webhook's keychain entry");
        }
    }
    console.audit(
        "webhook.remove",
        None,
        Some(&match &result {
            Ok(w) => format!("webhook #{id} {}", address::origin_of(&w.url)),
            Err(_) => format!("webhook #{id}"),
        }),
        &result.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    result
}

/// Delivery attempts, newest first, of one webhook (which must exist) or of all; at most `limit`.
pub fn deliveries(
    console: &Console,
    webhook_id: Option<i64>,
    limit: u32,
) -> Result<Vec<WebhookDelivery>, ApiError> {
    if let Some(id) = webhook_id {
        console.store().webhook(id)?;
    }
    Ok(console.store().webhook_deliveries(webhook_id, limit)?)
}
