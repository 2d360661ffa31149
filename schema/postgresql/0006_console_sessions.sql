-- Web console sessions, shared by every node (SQLite's 0022): a browser signed in on one node
-- is signed in on all of them, so the console needs no session affinity. The cookie's session
-- id and the API key are kept as SHA-256 hex digests only.
CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    key_hash   TEXT NOT NULL,
    name       TEXT NOT NULL,
    admin      INTEGER NOT NULL,
    csrf       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_by_key ON console_sessions (key_hash, expires_at);
