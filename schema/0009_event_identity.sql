-- An event's key now covers its machine and integration too: the same record from two machines,
-- or through two integrations, is two events (before, the second was taken for a duplicate and
-- dropped). Stored events are rekeyed with the key the writer computes (vigil_event_key is
-- EventKey.compute, registered by the migrator), so re-importing a file for the same machine
-- stays idempotent across the upgrade.
DROP INDEX events_key;
UPDATE events SET key = vigil_event_key(source_format, category, time, raw,
    (SELECT hostname FROM machines WHERE machines.id = events.machine_id), integration);
CREATE UNIQUE INDEX events_key ON events(key);
