-- Fleet imports at scale (bench/RESULTS.md): keeping the trigram index row by row costs ~60 µs a device,
-- while rebuilding it after a large import costs ~6 µs. `search_maintenance.bulk` switches the row
-- triggers off inside one transaction that ends with a rebuild, so the index is never seen stale.
-- `device_total` keeps the row count, which the device list shows on every page, without a scan.

CREATE TABLE search_maintenance (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    bulk INTEGER NOT NULL DEFAULT 0 CHECK (bulk IN (0, 1))
);
INSERT INTO search_maintenance (id, bulk) VALUES (1, 0);

DROP TRIGGER devices_search_insert;
DROP TRIGGER devices_search_delete;
DROP TRIGGER devices_search_update;

CREATE TRIGGER devices_search_insert AFTER INSERT ON devices
WHEN (SELECT bulk FROM search_maintenance WHERE id = 1) = 0 BEGIN
    INSERT INTO devices_search(rowid, device_id, name, model)
    VALUES (new.id, new.device_id, new.name, new.model);
END;
CREATE TRIGGER devices_search_delete AFTER DELETE ON devices
WHEN (SELECT bulk FROM search_maintenance WHERE id = 1) = 0 BEGIN
    INSERT INTO devices_search(devices_search, rowid, device_id, name, model)
    VALUES ('delete', old.id, old.device_id, old.name, old.model);
END;
CREATE TRIGGER devices_search_update AFTER UPDATE OF device_id, name, model ON devices
WHEN (SELECT bulk FROM search_maintenance WHERE id = 1) = 0
 AND (old.device_id IS NOT new.device_id OR old.name IS NOT new.name OR old.model IS NOT new.model) BEGIN
    INSERT INTO devices_search(devices_search, rowid, device_id, name, model)
    VALUES ('delete', old.id, old.device_id, old.name, old.model);
    INSERT INTO devices_search(rowid, device_id, name, model)
    VALUES (new.id, new.device_id, new.name, new.model);
END;

CREATE TABLE device_total (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO device_total (id, n) SELECT 1, COUNT(*) FROM devices;
CREATE TRIGGER device_total_insert AFTER INSERT ON devices BEGIN
    UPDATE device_total SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER device_total_delete AFTER DELETE ON devices BEGIN
    UPDATE device_total SET n = n - 1 WHERE id = 1;
END;

-- The list orders by (column, device_id, account_id); indexes in exactly that order let the first page be
-- read straight off the index instead of sorting ties in a temporary b-tree.
DROP INDEX devices_by_name;
DROP INDEX devices_by_device;
DROP INDEX devices_by_model;
DROP INDEX devices_by_firmware;
DROP INDEX devices_by_battery;
CREATE INDEX devices_by_name     ON devices(name, device_id, account_id);
CREATE INDEX devices_by_device   ON devices(device_id, account_id);
CREATE INDEX devices_by_model    ON devices(model, device_id, account_id);
CREATE INDEX devices_by_firmware ON devices(firmware, device_id, account_id);
CREATE INDEX devices_by_battery  ON devices(battery, device_id, account_id);
