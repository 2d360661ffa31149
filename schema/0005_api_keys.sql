-- API keys for reading and triaging over HTTP. Separate from push tokens: a push token can
-- never read alerts, and an API key can never push. Only the SHA-256 of a key is stored.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    key_hash     BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
