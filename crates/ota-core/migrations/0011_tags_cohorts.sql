-- Tags, cohorts and continuous campaigns (issue 17).
--
-- Tags are local labels on a device of any cloud, keyed by the account and the id the cloud uses, not by
-- the cache's row: a fleet refresh rewrites and removes `devices` rows, and tags outlive that. A device the
-- cloud stops listing keeps its tags here (they show again if it comes back); removing the account drops
-- them.
CREATE TABLE device_tags (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id  TEXT    NOT NULL,
    tag        TEXT    NOT NULL,
    tagged_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, device_id, tag)
) WITHOUT ROWID;
-- "Devices having tag T" (filters, dynamic cohorts, tag counts).
CREATE INDEX device_tags_by_tag ON device_tags(tag, account_id, device_id);

-- A saved group of devices: `static` lists its devices (cohort_devices), `dynamic` keeps a device-list
-- filter (JSON of `DeviceQuery`) whose current matches are its devices.
CREATE TABLE cohorts (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL CHECK (kind IN ('static', 'dynamic')),
    query       TEXT,
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE cohort_devices (
    cohort_id  INTEGER NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id  TEXT    NOT NULL,
    PRIMARY KEY (cohort_id, account_id, device_id)
) WITHOUT ROWID;

-- A campaign over a cohort keeps which (NULL once the cohort is deleted, which only a finished campaign
-- allows). `continuous`: devices that start matching later join it until it is `closed`.
ALTER TABLE campaigns ADD COLUMN cohort_id  INTEGER REFERENCES cohorts(id) ON DELETE SET NULL;
ALTER TABLE campaigns ADD COLUMN continuous INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN closed     INTEGER NOT NULL DEFAULT 0;
CREATE INDEX campaigns_by_cohort ON campaigns(cohort_id);

-- Bumped by every change that can change which devices a filter or cohort matches (a fleet refresh,
-- devices added by hand, tags, cohorts): a continuous campaign's runner reads this one row each round and
-- resolves its targets again only when it moved, whichever process made the change.
CREATE TABLE fleet_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO fleet_generation (id, n) VALUES (1, 0);
