-- One runner at a time per campaign, across processes and (in team mode) machines: the runner that holds a
-- campaign's lease is the only one that claims, starts and records its devices. A lease is taken with one
-- conditional INSERT ... ON CONFLICT DO UPDATE ... WHERE (only when there is none or it expired), renewed
-- by its holder while it runs and deleted when it ends cleanly; a holder that was killed simply stops
-- renewing, and another runner takes over once `expires_at` has passed. The same table and statements work
-- on PostgreSQL (there with the server's clock, so runners on several machines agree on expiry).
CREATE TABLE campaign_leases (
    campaign_id INTEGER PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,
    -- Random per runner: two runners in one process (or a pid reused after a crash) never look alike.
    holder      TEXT    NOT NULL,
    -- Who it is, in words: "otactl pid 812 on host X".
    host        TEXT    NOT NULL,
    pid         INTEGER NOT NULL,
    program     TEXT    NOT NULL,
    -- Milliseconds since the epoch.
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
