-- The runner claims due devices in (wave, device) order many times a second: with the device id in the
-- index the claim reads the next rows in index order instead of sorting every pending device
-- (bench/RESULTS.md, campaign CPU profile).
DROP INDEX campaign_devices_by_state;
CREATE INDEX campaign_devices_by_state ON campaign_devices(campaign_id, state, wave, device_id);
