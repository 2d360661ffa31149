-- Web console sessions, in the store, so that every server on it knows them: several nodes on
-- one PostgreSQL store serve the console without session affinity. The cookie's session id and
-- the API key are kept as SHA-256 hex digests only, so a copy of this table signs nobody in;
-- the key is checked again on every request through api_keys.
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    key_hash   TEXT NOT NULL,
    name       TEXT NOT NULL,
    admin      INTEGER NOT NULL,
    csrf       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_by_key ON console_sessions (key_hash, expires_at);
