//! Webhooks in SQL (migration 0013): the webhooks with their cursor into the audit log and their lease,
//! the delivery log, and the read of the audit log the dispatcher sends from. Every statement of the
//! feature is here, in SQL PostgreSQL runs too (no SQLite functions, `RETURNING` for new ids,
//! `ON CONFLICT`, the optional filter chosen in Rust rather than `?1 IS NULL`).

use super::Store;
use crate::db::{params, Row, Sql, SqlExt};
use crate::error::{ApiError, CoreError, CoreResult, OptionalRow};
use crate::model::now_ms;
use crate::webhooks::{DeliveryOutcome, Webhook, WebhookDelivery};

const WEBHOOK_COLUMNS: &str = "id, url, events, last_audit_id, created_by, created_at";

const DELIVERY_COLUMNS: &str =
    "id, webhook_id, audit_id, event, attempt, status, error, outcome, at, duration_ms";

/// One attempt at delivering an event, as the dispatcher records it.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryAttempt<'a> {
    pub webhook_id: i64,
    pub audit_id: i64,
    pub event: &'a str,
    pub attempt: u32,
    pub status: Option<u16>,
    pub error: Option<&'a str>,
    pub outcome: DeliveryOutcome,
    pub at: i64,
    pub duration_ms: i64,
}

fn webhook_from_row(row: &Row) -> CoreResult<Webhook> {
    let events: String = row.get(2)?;
    Ok(Webhook {
        id: row.get(0)?,
        url: row.get(1)?,
        events: events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect(),
        last_audit_id: row.get(3)?,
        created_by: row.get(4)?,
        created_at: row.get(5)?,
        last_delivery: None,
    })
}

fn delivery_from_row(row: &Row) -> CoreResult<WebhookDelivery> {
    let status: Option<i64> = row.get(5)?;
    let outcome: String = row.get(7)?;
    Ok(WebhookDelivery {
        id: row.get(0)?,
        webhook_id: row.get(1)?,
        audit_id: row.get(2)?,
        event: row.get(3)?,
        attempt: row.get(4)?,
        status: status.and_then(|s| u16::try_from(s).ok()),
        error: row.get(6)?,
        outcome: DeliveryOutcome::parse(&outcome).ok_or_else(|| CoreError::Column {
            index: 7,
            message: format!("{outcome:?} is not a delivery outcome"),
        })?,
        at: row.get(8)?,
        duration_ms: row.get(9)?,
    })
}

fn webhook_not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("No webhook #{id}."))
        .with_hint("`otactl webhooks list` shows the webhooks.")
}

fn last_delivery(conn: &dyn Sql, id: i64) -> CoreResult<Option<WebhookDelivery>> {
    conn.query_row(
        &format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ?1
             ORDER BY id DESC LIMIT 1"
        ),
        params![id],
        delivery_from_row,
    )
    .optional()
}

impl Store {
    /// Adds a webhook whose cursor is the newest audit entry: it is sent what happens from now on, not
    /// the past.
    pub fn add_webhook(
        &self,
        url: &str,
        events: &[String],
        created_by: &str,
    ) -> CoreResult<Webhook> {
        let id = self.write(|tx| {
            tx.query_row(
                "INSERT INTO webhooks (url, events, last_audit_id, created_by, created_at)
                 VALUES (?1, ?2, (SELECT COALESCE(MAX(id), 0) FROM audit_log), ?3, ?4)
                 RETURNING id",
                params![url, events.join(","), created_by, now_ms()],
                |r| r.get::<i64>(0),
            )
        })?;
        self.webhook(id)
    }

    /// A webhook with its last delivery attempt.
    pub fn webhook(&self, id: i64) -> CoreResult<Webhook> {
        self.read(|conn| {
            let mut webhook = conn
                .query_row(
                    &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"),
                    params![id],
                    webhook_from_row,
                )
                .optional()?
                .ok_or_else(|| webhook_not_found(id))?;
            webhook.last_delivery = last_delivery(conn, id)?;
            Ok(webhook)
        })
    }

    /// Every webhook, oldest first, each with its last delivery attempt.
    pub fn webhooks(&self) -> CoreResult<Vec<Webhook>> {
        self.read(|conn| {
            let mut webhooks = conn.query_map(
                &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id"),
                params![],
                webhook_from_row,
            )?;
            for webhook in &mut webhooks {
                webhook.last_delivery = last_delivery(conn, webhook.id)?;
            }
            Ok(webhooks)
        })
    }

    /// Deletes a webhook and its delivery log; answers it as it was.
    pub fn delete_webhook(&self, id: i64) -> CoreResult<Webhook> {
        let webhook = self.webhook(id)?;
        let deleted = self.write(|tx| {
            tx.execute(
                "DELETE FROM webhook_deliveries WHERE webhook_id = ?1",
                params![id],
            )?;
            tx.execute("DELETE FROM webhooks WHERE id = ?1", params![id])
        })?;
        if deleted == 0 {
            return Err(webhook_not_found(id).into());
        }
        Ok(webhook)
    }

    /// Delivery attempts, newest first: of one webhook, or of all.
    pub fn webhook_deliveries(
        &self,
        webhook_id: Option<i64>,
        limit: u32,
    ) -> CoreResult<Vec<WebhookDelivery>> {
        let limit = i64::from(limit.max(1));
        self.read(|conn| {
            let rows = match webhook_id {
                Some(id) => conn
                    .query_map(&format!(
                        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = ?1
                         ORDER BY id DESC LIMIT ?2"
                    ), params![id, limit], delivery_from_row)?
                    ,
                None => conn
                    .query_map(&format!(
                        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY id DESC LIMIT ?1"
                    ), params![limit], delivery_from_row)?
                    ,
            };
            Ok(rows)
        })
    }

    /// Takes (or renews) a webhook for the dispatcher `holder` until `until` (ms), unless another
    /// dispatcher holds it and its hold has not run out at `now`. Answers the webhook as it is then.
    pub(crate) fn claim_webhook(
        &self,
        id: i64,
        holder: &str,
        now: i64,
        until: i64,
    ) -> CoreResult<Option<Webhook>> {
        self.write(|tx| {
            let taken = tx.execute(
                "UPDATE webhooks SET lease_holder = ?2, lease_until = ?4
                 WHERE id = ?1 AND (lease_holder IS NULL OR lease_holder = ?2 OR lease_until < ?3)",
                params![id, holder, now, until],
            )?;
            if taken == 0 {
                return Ok(None);
            }
            tx.query_row(
                &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"),
                params![id],
                webhook_from_row,
            )
            .optional()
        })
    }

    /// Gives a webhook up (only if `holder` still holds it).
    pub(crate) fn release_webhook(&self, id: i64, holder: &str) -> CoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE webhooks SET lease_holder = NULL, lease_until = NULL
                 WHERE id = ?1 AND lease_holder = ?2",
                params![id, holder],
            )?;
            Ok(())
        })
    }

    /// Moves a webhook's cursor on to `audit_id` (never back), if `holder` still holds it.
    pub(crate) fn advance_webhook(&self, id: i64, holder: &str, audit_id: i64) -> CoreResult<()> {
        self.write(|tx| advance(tx, id, holder, audit_id))
    }

    /// Records an attempt; a final one (delivered, or given up) also moves the cursor past its event, in
    /// the same transaction. Nothing is recorded for a webhook deleted meanwhile.
    pub(crate) fn record_webhook_attempt(
        &self,
        holder: &str,
        attempt: &DeliveryAttempt<'_>,
    ) -> CoreResult<()> {
        self.write(|tx| {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = ?1)",
                params![attempt.webhook_id],
                |r| r.get(0),
            )?;
            if !exists {
                return Ok(());
            }
            tx.execute(
                "INSERT INTO webhook_deliveries
                     (webhook_id, audit_id, event, attempt, status, error, outcome, at, duration_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (webhook_id, audit_id, attempt) DO NOTHING",
                params![
                    attempt.webhook_id,
                    attempt.audit_id,
                    attempt.event,
                    attempt.attempt,
                    attempt.status,
                    attempt.error,
                    attempt.outcome.as_str(),
                    attempt.at,
                    attempt.duration_ms,
                ],
            )?;
            if attempt.outcome != DeliveryOutcome::Retrying {
                advance(tx, attempt.webhook_id, holder, attempt.audit_id)?;
            }
            Ok(())
        })
    }

    /// How many attempts an event has had for a webhook, and when the last one began.
    pub(crate) fn webhook_attempts(
        &self,
        webhook_id: i64,
        audit_id: i64,
    ) -> CoreResult<(u32, Option<i64>)> {
        self.read(|conn| {
            conn.query_row(
                "SELECT COUNT(*), MAX(at) FROM webhook_deliveries
                     WHERE webhook_id = ?1 AND audit_id = ?2",
                params![webhook_id, audit_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }
}

fn advance(tx: &dyn Sql, id: i64, holder: &str, audit_id: i64) -> CoreResult<()> {
    tx.execute(
        "UPDATE webhooks SET last_audit_id = ?3
         WHERE id = ?1 AND lease_holder = ?2 AND last_audit_id < ?3",
        params![id, holder, audit_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{test_store, AuditRecord};

    fn audit(store: &Store, action: &str) {
        store
            .audit(&AuditRecord {
                actor: "t",
                action,
                cloud: None,
                target: None,
                result: "ok",
                detail: None,
            })
            .unwrap();
    }

    #[test]
    fn a_new_webhook_starts_after_the_newest_audit_entry() {
        let (_dir, store) = test_store();
        audit(&store, "campaign.start");
        audit(&store, "campaign.complete");
        let hook = store
            .add_webhook("https://h.example/x", &["campaign.*".into()], "ana")
            .unwrap();
        assert_eq!(hook.events, ["campaign.*"]);
        let newest = store.audit_entries(1).unwrap()[0].id;
        assert_eq!(hook.last_audit_id, newest);
        assert!(store
            .audit_after(hook.last_audit_id, 10)
            .unwrap()
            .is_empty());
        audit(&store, "campaign.pause");
        let after = store.audit_after(hook.last_audit_id, 10).unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].action, "campaign.pause");
    }

    #[test]
    fn one_dispatcher_holds_a_webhook_and_only_the_holder_moves_its_cursor() {
        let (_dir, store) = test_store();
        audit(&store, "campaign.start");
        let hook = store
            .add_webhook("https://h.example/x", &["*".into()], "ana")
            .unwrap();
        assert!(store
            .claim_webhook(hook.id, "a", 100, 200)
            .unwrap()
            .is_some());
        assert!(store
            .claim_webhook(hook.id, "b", 150, 250)
            .unwrap()
            .is_none());
        assert!(
            store
                .claim_webhook(hook.id, "a", 150, 250)
                .unwrap()
                .is_some(),
            "renewed"
        );
        store
            .advance_webhook(hook.id, "b", hook.last_audit_id + 5)
            .unwrap();
        assert_eq!(
            store.webhook(hook.id).unwrap().last_audit_id,
            hook.last_audit_id
        );
        // Run out: another takes it.
        assert!(store
            .claim_webhook(hook.id, "b", 300, 400)
            .unwrap()
            .is_some());
        let attempt = |n: u32, outcome| DeliveryAttempt {
            webhook_id: hook.id,
            audit_id: hook.last_audit_id + 5,
            event: "campaign.started",
            attempt: n,
            status: Some(500),
            error: Some("HTTP 500"),
            outcome,
            at: 310,
            duration_ms: 3,
        };
        store
            .record_webhook_attempt("b", &attempt(1, DeliveryOutcome::Retrying))
            .unwrap();
        assert_eq!(
            store.webhook(hook.id).unwrap().last_audit_id,
            hook.last_audit_id
        );
        store
            .record_webhook_attempt("b", &attempt(2, DeliveryOutcome::Failed))
            .unwrap();
        assert_eq!(
            store.webhook(hook.id).unwrap().last_audit_id,
            hook.last_audit_id + 5
        );
        assert_eq!(
            store
                .webhook_attempts(hook.id, hook.last_audit_id + 5)
                .unwrap(),
            (2, Some(310))
        );
        let log = store.webhook_deliveries(Some(hook.id), 10).unwrap();
        assert_eq!(
            log.iter()
                .map(|d| (d.attempt, d.outcome))
                .collect::<Vec<_>>(),
            [(2, DeliveryOutcome::Failed), (1, DeliveryOutcome::Retrying)]
        );
        assert_eq!(
            store
                .webhook(hook.id)
                .unwrap()
                .last_delivery
                .map(|d| d.attempt),
            Some(2)
        );
        store.release_webhook(hook.id, "b").unwrap();
        assert!(store
            .claim_webhook(hook.id, "c", 301, 400)
            .unwrap()
            .is_some());

        store.delete_webhook(hook.id).unwrap();
        assert!(store.webhook_deliveries(None, 10).unwrap().is_empty());
        assert_eq!(
            ApiError::from(store.webhook(hook.id).unwrap_err()).code,
            crate::ErrorKind::NotFound
        );
        // An attempt finishing after the webhook was removed leaves nothing behind.
        store
            .record_webhook_attempt("c", &attempt(3, DeliveryOutcome::Delivered))
            .unwrap();
        assert!(store.webhook_deliveries(None, 10).unwrap().is_empty());
    }
}
