-- Every event holds a storage key of its own again (see 0020).
DROP INDEX events_key_settling;
CREATE UNIQUE INDEX events_key ON events(key);
