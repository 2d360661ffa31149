-- Events are filed under time-ordered storage keys (EventKey.storageKey): the second of the
-- event's time in the high bits, 31 bits drawn from its content digest below. With keys spread
-- at random over the whole range, every insert was a random write into the key index: at 2M
-- events the import ran at 0.2x of what SQLite appends without the index (measured by
-- scripts/measure-key-designs.py); with time-ordered keys it appends at about the full rate.
-- Every stored event takes its first storage key here; the migrator then moves each one that
-- drew a key an earlier event holds along its own tries, as the writer does
-- (Migrations.settleStorageKeyCollisions), and 0021 makes the key unique again.
DROP INDEX events_key;
UPDATE events SET key = vigil_event_storage_key(source_format, category, time, raw,
    (SELECT hostname FROM machines WHERE machines.id = events.machine_id), integration, 0);
CREATE INDEX events_key_settling ON events(key);
-- Saved correlation windows keep the keys of schema 19: they still count what they saw, but an
-- alert raised from such a window cannot link the events seen before the upgrade.
