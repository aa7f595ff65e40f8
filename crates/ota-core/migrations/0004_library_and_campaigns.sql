-- The firmware library and fleet campaigns. The first schema's `firmware` table was never written; it is
-- replaced by one whose uniqueness also holds for "any model" (NULL is never equal to NULL in UNIQUE).

DROP TABLE firmware;

-- Package bytes live once per SHA-256 in the data folder (`firmware/<sha256>`); entries refer to them.
CREATE TABLE firmware (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT    NOT NULL,
    md5         TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    file_name   TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    cloud       TEXT    NOT NULL CHECK (cloud IN ('vicohome', 'onenet', 'quectel')),
    model       TEXT    NOT NULL DEFAULT '',
    notes       TEXT    NOT NULL DEFAULT '',
    added_by    TEXT    NOT NULL,
    added_at    INTEGER NOT NULL,
    UNIQUE (sha256, version, cloud, model)
);
CREATE INDEX firmware_by_sha ON firmware(sha256);

-- Where a firmware was made the update a cloud offers (sandbox management endpoints).
CREATE TABLE firmware_publications (
    firmware_id  INTEGER NOT NULL REFERENCES firmware(id) ON DELETE CASCADE,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    published_at INTEGER NOT NULL,
    detail       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (firmware_id, account_id)
) WITHOUT ROWID;

CREATE TABLE campaigns (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    -- RESTRICT: a firmware cannot be deleted while a campaign refers to it.
    firmware_id       INTEGER NOT NULL REFERENCES firmware(id) ON DELETE RESTRICT,
    state             TEXT    NOT NULL CHECK (state IN
                          ('ready', 'running', 'paused', 'completed', 'aborted', 'cancelled')),
    -- The campaign's settings as the user chose them (JSON of `CampaignSettings`).
    settings          TEXT    NOT NULL,
    -- The saved filter the targets came from (JSON of `DeviceQuery`), when they came from one.
    target_filter     TEXT,
    wave_count        INTEGER NOT NULL,
    current_wave      INTEGER NOT NULL DEFAULT 0,
    -- Why the campaign paused or aborted, in words.
    reason            TEXT,
    created_by        TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    updated_at        INTEGER NOT NULL
);

-- One row per device of a campaign. The row is written *before* each action is sent: a crash between
-- the write and the answer leaves `starting`, which a restart resolves by reading the device's status.
CREATE TABLE campaign_devices (
    campaign_id     INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id       TEXT    NOT NULL,
    cloud           TEXT    NOT NULL,
    product_key     TEXT,
    model           TEXT    NOT NULL DEFAULT '',
    name            TEXT    NOT NULL DEFAULT '',
    from_version    TEXT    NOT NULL DEFAULT '',
    -- 0-based; NULL for devices the pre-flight check left out.
    wave            INTEGER,
    state           TEXT    NOT NULL CHECK (state IN
                        ('pending', 'starting', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    percent         INTEGER NOT NULL DEFAULT 0,
    -- The cloud's last reported state of this device and when it reported it (never assumed).
    remote_state    TEXT,
    reported_at     INTEGER,
    next_attempt_at INTEGER,
    error_code      TEXT,
    error_message   TEXT,
    error_hint      TEXT,
    vendor_code     TEXT,
    started_at      INTEGER,
    finished_at     INTEGER,
    PRIMARY KEY (campaign_id, account_id, device_id)
) WITHOUT ROWID;
CREATE INDEX campaign_devices_by_state ON campaign_devices(campaign_id, state, wave);

-- Progress over time, for the dashboard's chart: one row per sample (at most one a second).
CREATE TABLE campaign_samples (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    succeeded   INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    in_flight   INTEGER NOT NULL,
    pending     INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, at)
) WITHOUT ROWID;

CREATE INDEX audit_log_by_action ON audit_log(action, at);
