-- Webhooks for campaign events (issue 16). The audit log is the outbox: a webhook keeps the id of the last
-- audit entry it has handled (`last_audit_id`), and the dispatcher reads the entries after it in id order,
-- turns the campaign ones into events (`crate::webhooks::events`), POSTs those its patterns match and moves
-- the cursor past an event only once it was delivered or given up. The secret that signs each body is in
-- the OS keychain, never here. Plain SQL that PostgreSQL runs too.
CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY,
    url           TEXT    NOT NULL,
    -- The event patterns, comma-separated: `campaign.*` or exact names such as `campaign.completed`.
    events        TEXT    NOT NULL,
    -- The last audit entry handled (delivered, given up, or not an event this webhook takes).
    last_audit_id INTEGER NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    -- The dispatcher delivering to this webhook now (a window and `otactl webhooks deliver` may both run
    -- one): random per dispatcher, and until when (ms) it holds the webhook. NULL when free.
    lease_holder  TEXT,
    lease_until   INTEGER
);

-- Every delivery attempt: what was sent (the audit entry and its event), the answer and how long it took.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    -- The audit entry the event came from: the event's id (`X-OTA-Delivery`).
    audit_id    INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    -- 1 for the first attempt at this event.
    attempt     INTEGER NOT NULL,
    -- The HTTP status of the answer; NULL when none came (refused, timed out).
    status      INTEGER,
    error       TEXT,
    -- `delivered` (a 2xx), `retrying` (another attempt follows), `failed` (the last attempt; given up).
    outcome     TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed')),
    at          INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    UNIQUE (webhook_id, audit_id, attempt)
);
-- The log, newest first, of one webhook or all.
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, id);
