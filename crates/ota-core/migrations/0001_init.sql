-- Initial schema. Times are Unix milliseconds (UTC). Secrets never live here: credentials are in the OS keychain.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    cloud       TEXT    NOT NULL CHECK (cloud IN ('vicohome', 'onenet', 'quectel')),
    base_url    TEXT    NOT NULL,
    region      TEXT,
    username    TEXT,
    sandbox     INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1)),
    created_at  INTEGER NOT NULL
);

CREATE TABLE devices (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id       TEXT    NOT NULL,
    cloud           TEXT    NOT NULL,
    product_key     TEXT,
    name            TEXT    NOT NULL DEFAULT '',
    model           TEXT    NOT NULL DEFAULT '',
    manufacturer    TEXT,
    transport       TEXT,
    firmware        TEXT    NOT NULL DEFAULT '',
    newest_firmware TEXT,
    online          INTEGER NOT NULL DEFAULT 0,
    battery         INTEGER,
    signal          INTEGER,
    refreshed_at    INTEGER NOT NULL,
    UNIQUE (account_id, device_id)
);

CREATE INDEX devices_by_name     ON devices(name, device_id);
CREATE INDEX devices_by_device   ON devices(device_id);
CREATE INDEX devices_by_model    ON devices(model, device_id);
CREATE INDEX devices_by_firmware ON devices(firmware, device_id);
CREATE INDEX devices_by_battery  ON devices(battery, device_id);
CREATE INDEX devices_by_cloud    ON devices(cloud, online);

-- Substring search over id / name / model: a trigram index answers '%x%' without scanning every row.
CREATE VIRTUAL TABLE devices_search USING fts5(
    device_id, name, model, content = 'devices', content_rowid = 'id', tokenize = 'trigram'
);

CREATE TRIGGER devices_search_insert AFTER INSERT ON devices BEGIN
    INSERT INTO devices_search(rowid, device_id, name, model)
    VALUES (new.id, new.device_id, new.name, new.model);
END;
CREATE TRIGGER devices_search_delete AFTER DELETE ON devices BEGIN
    INSERT INTO devices_search(devices_search, rowid, device_id, name, model)
    VALUES ('delete', old.id, old.device_id, old.name, old.model);
END;
CREATE TRIGGER devices_search_update AFTER UPDATE OF device_id, name, model ON devices BEGIN
    INSERT INTO devices_search(devices_search, rowid, device_id, name, model)
    VALUES ('delete', old.id, old.device_id, old.name, old.model);
    INSERT INTO devices_search(rowid, device_id, name, model)
    VALUES (new.id, new.device_id, new.name, new.model);
END;

-- One row per account: when its fleet was last fetched, and the last error if the fetch failed.
CREATE TABLE fleet_refresh (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    refreshed_at  INTEGER,
    attempted_at  INTEGER NOT NULL,
    error_kind    TEXT,
    error_message TEXT
);

CREATE TABLE firmware (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT    NOT NULL,
    md5         TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    version     TEXT    NOT NULL,
    cloud       TEXT,
    model       TEXT,
    notes       TEXT    NOT NULL DEFAULT '',
    stored_path TEXT    NOT NULL,
    added_by    TEXT    NOT NULL,
    added_at    INTEGER NOT NULL,
    UNIQUE (sha256, version, cloud, model)
);

CREATE TABLE ota_jobs (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    cloud          TEXT    NOT NULL,
    device_id      TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('starting', 'running', 'succeeded', 'failed', 'cancelled')),
    phase          TEXT    NOT NULL,
    vendor_state   INTEGER,
    percent        INTEGER NOT NULL DEFAULT 0,
    transferred    INTEGER NOT NULL DEFAULT 0,
    total          INTEGER NOT NULL DEFAULT 0,
    from_version   TEXT,
    to_version     TEXT,
    error_code     TEXT,
    error_message  TEXT,
    error_hint     TEXT,
    started_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    finished_at    INTEGER
);

-- At most one unfinished job per device: the store itself refuses a duplicate OTA start.
CREATE UNIQUE INDEX ota_jobs_one_active
    ON ota_jobs(account_id, device_id) WHERE state IN ('starting', 'running');
CREATE INDEX ota_jobs_by_started ON ota_jobs(started_at DESC);

CREATE TABLE job_events (
    id           INTEGER PRIMARY KEY,
    job_id       INTEGER NOT NULL REFERENCES ota_jobs(id) ON DELETE CASCADE,
    at           INTEGER NOT NULL,
    vendor_state INTEGER,
    phase        TEXT    NOT NULL,
    percent      INTEGER NOT NULL,
    transferred  INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    message      TEXT
);
CREATE INDEX job_events_by_job ON job_events(job_id, id);

CREATE TABLE upgrade_plans (
    account_id          INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id           TEXT    NOT NULL,
    plan_id             INTEGER NOT NULL,
    plan_name           TEXT    NOT NULL DEFAULT '',
    target_version      TEXT    NOT NULL DEFAULT '',
    plan_start          INTEGER,
    plan_end            INTEGER,
    appoint_start       INTEGER,
    appoint_end         INTEGER,
    device_status       INTEGER NOT NULL,
    user_confirm_status INTEGER NOT NULL,
    progress            REAL    NOT NULL DEFAULT 0,
    refreshed_at        INTEGER NOT NULL,
    PRIMARY KEY (account_id, device_id, plan_id)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    cloud    TEXT,
    target   TEXT,
    result   TEXT    NOT NULL,
    detail   TEXT
);
CREATE INDEX audit_log_by_at ON audit_log(at DESC);
