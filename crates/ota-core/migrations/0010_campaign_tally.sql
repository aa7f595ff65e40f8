-- The campaign dashboard reads its counts every 2 s while a runner writes. Counting the index ranges of a
-- 100 000-device campaign took ~10 ms idle and ~45 ms at the 95th percentile while it ran
-- (bench/RESULTS.md). `campaign_tally` holds how many devices each (campaign, wave, state) has, kept by
-- triggers in the same transaction as the rows themselves, so every count is a read of a few rows
-- whichever code path moves a device (claims, results, cancel, retry, deletes by cascade).
-- `wave` is -1 for the devices the pre-flight check left out (their `wave` is NULL).

CREATE TABLE campaign_tally (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    wave        INTEGER NOT NULL,
    state       TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, wave, state)
) WITHOUT ROWID;

INSERT INTO campaign_tally (campaign_id, wave, state, n)
SELECT campaign_id, COALESCE(wave, -1), state, COUNT(*) FROM campaign_devices
GROUP BY campaign_id, COALESCE(wave, -1), state;

CREATE TRIGGER campaign_tally_insert AFTER INSERT ON campaign_devices BEGIN
    INSERT INTO campaign_tally (campaign_id, wave, state, n)
    VALUES (new.campaign_id, COALESCE(new.wave, -1), new.state, 1)
    ON CONFLICT (campaign_id, wave, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER campaign_tally_delete AFTER DELETE ON campaign_devices BEGIN
    UPDATE campaign_tally SET n = n - 1
    WHERE campaign_id = old.campaign_id AND wave = COALESCE(old.wave, -1) AND state = old.state;
END;

CREATE TRIGGER campaign_tally_update AFTER UPDATE OF campaign_id, wave, state ON campaign_devices
WHEN old.campaign_id IS NOT new.campaign_id OR old.wave IS NOT new.wave OR old.state IS NOT new.state BEGIN
    UPDATE campaign_tally SET n = n - 1
    WHERE campaign_id = old.campaign_id AND wave = COALESCE(old.wave, -1) AND state = old.state;
    INSERT INTO campaign_tally (campaign_id, wave, state, n)
    VALUES (new.campaign_id, COALESCE(new.wave, -1), new.state, 1)
    ON CONFLICT (campaign_id, wave, state) DO UPDATE SET n = n + 1;
END;
