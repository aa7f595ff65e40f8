-- Campaign templates (issue 17): a campaign's settings and rules saved under a name, to create campaigns
-- like it (`otactl campaign create --template NAME`). Targets, firmware and the start time are not kept.
-- Saving under an existing name replaces it.
CREATE TABLE campaign_templates (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    -- JSON of `CampaignSettings` (start time cleared) and of `CampaignRules`.
    settings   TEXT    NOT NULL,
    rules      TEXT    NOT NULL,
    saved_by   TEXT    NOT NULL,
    saved_at   INTEGER NOT NULL
);

-- Fleet versions (issue 17) count devices per (cloud, model, firmware): with this index the count is read
-- off the index in order, without the table or a temporary b-tree, at 100 000 devices too.
CREATE INDEX devices_by_cloud_model_firmware ON devices(cloud, model, firmware);
