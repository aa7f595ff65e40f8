-- Campaign rules (issue 17). Each is set when the campaign is created and shown with it:
--   bake_secs            a wave passes only after it has been complete this long (0 = at once);
--   gate_manual          each next wave waits for a person's "approve wave";
--   device_timeout_secs  a device still in progress this long after its start fails as timed out (NULL = none);
--   verify_version       a device counts as succeeded only when the cloud then reports the target version;
--   require_approval     the campaign cannot start until a user other than its creator approves it.
ALTER TABLE campaigns ADD COLUMN bake_secs           INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN gate_manual         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN device_timeout_secs INTEGER;
ALTER TABLE campaigns ADD COLUMN verify_version      INTEGER NOT NULL DEFAULT 1;
ALTER TABLE campaigns ADD COLUMN require_approval    INTEGER NOT NULL DEFAULT 0;
-- Who approved it and when (the OS user the audit log names); NULL until approved.
ALTER TABLE campaigns ADD COLUMN approved_by         TEXT;
ALTER TABLE campaigns ADD COLUMN approved_at         INTEGER;
-- Manual gate: waves up to this 0-based index may start (wave 0 needs no wave approval).
ALTER TABLE campaigns ADD COLUMN wave_approved       INTEGER NOT NULL DEFAULT 0;
-- When the current wave was found complete within its threshold (the bake counts from here); NULL while
-- it has open devices. Cleared when the campaign moves to another wave.
ALTER TABLE campaigns ADD COLUMN wave_done_at        INTEGER;
