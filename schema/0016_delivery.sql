-- Delivery. Every alert and incident change is appended to the outbox in the transaction that
-- makes it; its id is the change's stable event id (SQLite has one writer at a time, so ids
-- follow commit order and a reader that has seen id N never later finds a smaller one).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('alert.created', 'alert.updated', 'incident.created', 'incident.updated')),
    alert_id INTEGER,
    incident_id INTEGER,
    changes TEXT NOT NULL DEFAULT '',   -- what changed, for updates: "status: new → resolved"
    created_at INTEGER NOT NULL
);

-- Where alerts go (`vigil notify add`). A subscription delivers the outbox in order: `cursor` is
-- the last outbox id it handled (sent, dead-lettered or not wanted); the item after it is being
-- tried, `attempts` times so far.
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    transport TEXT NOT NULL CHECK (transport IN ('webhook', 'syslog')),
    target TEXT NOT NULL,               -- the webhook URL, or host:port
    tls INTEGER NOT NULL DEFAULT 0,
    ca_file TEXT,                       -- a CA to trust besides the system's (syslog over TLS)
    format TEXT NOT NULL,
    min_severity INTEGER NOT NULL DEFAULT 0,
    platforms TEXT NOT NULL DEFAULT '', -- comma-separated; empty means every platform
    rules TEXT NOT NULL DEFAULT '',     -- comma-separated rule ids; empty means every rule
    kinds TEXT NOT NULL,                -- comma-separated outbox kinds it wants
    secret TEXT NOT NULL DEFAULT '',    -- the webhook's HMAC key
    enabled INTEGER NOT NULL DEFAULT 1,
    cursor INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at INTEGER,
    delivered INTEGER NOT NULL DEFAULT 0,
    last_delivered_at INTEGER,
    lease_owner TEXT,                   -- the worker delivering it now; another waits for lease_until
    lease_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

-- Webhook items given up after the last retry, kept for `vigil notify status` and redelivery.
CREATE TABLE dead_letters (
    subscription_id INTEGER NOT NULL,
    outbox_id INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, outbox_id)
) WITHOUT ROWID;
