-- Devices a user added by id or imported from CSV: OneNET's device-side API has no listing, so for a real
-- OneNET account this table is its fleet. A refresh merges these with whatever the cloud lists.
CREATE TABLE manual_devices (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id    TEXT    NOT NULL,
    name         TEXT    NOT NULL DEFAULT '',
    model        TEXT    NOT NULL DEFAULT '',
    manufacturer TEXT,
    firmware     TEXT    NOT NULL DEFAULT '',
    added_at     INTEGER NOT NULL,
    PRIMARY KEY (account_id, device_id)
) WITHOUT ROWID;
