//! Webhooks for campaign events: add (the URL and events checked, the signing secret to the keychain),
//! list, remove, the delivery log, and delivering — one pass ([`App::deliver_webhooks`], `otactl webhooks
//! deliver`) or a loop until told to stop ([`App::run_webhook_deliveries`]; the window runs one for as
//! long as it runs).

use std::future::Future;

pub use ota_core::webhooks::{
    DeliveryOutcome, DeliveryPass, DeliveryPolicy, NewWebhook, Webhook, WebhookDelivery,
    WebhookEvent, DELIVERY_HEADER, EVENTS, EVENT_HEADER, SIGNATURE_HEADER,
};

use ota_core::webhooks::{self, Dispatcher};

use crate::{ApiError, App, Secret};

/// Delivery attempts one read answers at most (the window's log).
pub const MAX_DELIVERY_ROWS: u32 = 1_000;

impl App {
    /// Checks the URL (`https://`, or http to loopback) and the event patterns before a secret is asked
    /// for.
    pub fn check_webhook(&self, new: &NewWebhook) -> Result<(), ApiError> {
        webhooks::check(new).map(|_| ())
    }

    /// Adds a webhook; its secret goes to the keychain (an empty one is refused). It is sent the events
    /// that happen from now on. Audited.
    pub fn add_webhook(&self, new: &NewWebhook, secret: Secret) -> Result<Webhook, ApiError> {
        webhooks::add(&self.console, new, secret)
    }

    /// Every webhook with its last delivery attempt (never a secret).
    pub fn webhooks(&self) -> Result<Vec<Webhook>, ApiError> {
        webhooks::list(&self.console)
    }

    /// Removes a webhook, its delivery log and its keychain entry. Audited.
    pub fn remove_webhook(&self, id: i64) -> Result<Webhook, ApiError> {
        webhooks::remove(&self.console, id)
    }

    /// Delivery attempts, newest first, of one webhook or of all; at most `limit` (0 or more than
    /// [`MAX_DELIVERY_ROWS`]: that many).
    pub fn webhook_deliveries(
        &self,
        webhook_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, ApiError> {
        let limit = if limit == 0 {
            MAX_DELIVERY_ROWS
        } else {
            limit.min(MAX_DELIVERY_ROWS)
        };
        webhooks::deliveries(&self.console, webhook_id, limit)
    }

    /// One delivery pass: every event due now is sent (those under 2 s old wait for the next pass, a
    /// failed one for its retry time).
    pub async fn deliver_webhooks(&self) -> Result<DeliveryPass, ApiError> {
        Dispatcher::new(&self.console, DeliveryPolicy::default())?
            .deliver_pending(ota_core::model::now_ms())
            .await
    }

    /// Delivers until `stop` completes: a pass every second.
    pub async fn run_webhook_deliveries(
        &self,
        stop: impl Future<Output = ()>,
    ) -> Result<(), ApiError> {
        Dispatcher::new(&self.console, DeliveryPolicy::default())?
            .run(stop)
            .await;
        Ok(())
    }
}
