-- Live views in team mode: every transaction that changes one of these tables sends one notice on the
-- channel `ota_console` naming the table (statement-level triggers, and PostgreSQL folds identical notices
-- of one transaction into one), whoever wrote it: another desk, an `otactl serve` runner, psql. Each app
-- listens and refreshes what it shows, batched like its own data-changed events.
CREATE FUNCTION ota_console_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ota_console', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TRIGGER accounts_changed AFTER INSERT OR UPDATE OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER devices_changed AFTER INSERT OR UPDATE OR DELETE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER device_tags_changed AFTER INSERT OR UPDATE OR DELETE ON device_tags
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER ota_jobs_changed AFTER INSERT OR UPDATE OR DELETE ON ota_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER audit_log_changed AFTER INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER firmware_changed AFTER INSERT OR UPDATE OR DELETE ON firmware
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER campaigns_changed AFTER INSERT OR UPDATE OR DELETE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER campaign_devices_changed AFTER INSERT OR UPDATE OR DELETE ON campaign_devices
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER campaign_leases_changed AFTER INSERT OR UPDATE OR DELETE ON campaign_leases
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER cohorts_changed AFTER INSERT OR UPDATE OR DELETE ON cohorts
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
CREATE TRIGGER webhook_deliveries_changed AFTER INSERT ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION ota_console_changed();
