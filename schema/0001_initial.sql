-- Vigil store, version 1. Times are INTEGER microseconds since the Unix epoch, UTC.

CREATE TABLE integrations (
    name            TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    platforms       TEXT NOT NULL,          -- comma-separated: linux,macos,ios,android
    formats         TEXT NOT NULL,          -- comma-separated source formats it sends
    builtin         INTEGER NOT NULL DEFAULT 1,
    enabled         INTEGER NOT NULL DEFAULT 0,
    enabled_changed_at INTEGER,
    events_received INTEGER NOT NULL DEFAULT 0,
    events_refused  INTEGER NOT NULL DEFAULT 0,
    last_data_at    INTEGER
);

CREATE TABLE access_tokens (
    id           INTEGER PRIMARY KEY,
    integration  TEXT NOT NULL REFERENCES integrations(name),
    token_hash   BLOB NOT NULL UNIQUE,      -- SHA-256 of the token; the token itself is never stored
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    revoked_reason TEXT
);

CREATE TABLE machines (
    id          INTEGER PRIMARY KEY,
    hostname    TEXT NOT NULL UNIQUE COLLATE NOCASE,
    os_platform TEXT NOT NULL,
    os_version  TEXT,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    last_integration TEXT
);

CREATE TABLE imports (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,            -- file path, `-` for stdin, or `http`
    format        TEXT NOT NULL,
    integration   TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    records_read  INTEGER NOT NULL DEFAULT 0,
    events_stored INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    duplicates    INTEGER NOT NULL DEFAULT 0,
    alerts_raised INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL             -- running, completed, failed
);

-- The primary key is derived from the event's content, so re-importing adds nothing.
-- Deliberately no secondary indexes: each one costs several times the insert rate.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    time          INTEGER NOT NULL,
    machine_id    INTEGER NOT NULL REFERENCES machines(id),
    integration   TEXT NOT NULL,
    source_format TEXT NOT NULL,
    product       TEXT,
    category      TEXT,
    service       TEXT,
    fields        TEXT NOT NULL,            -- JSON object; a list-valued field is a JSON array
    raw           TEXT NOT NULL,
    import_id     INTEGER REFERENCES imports(id),
    line          INTEGER
);

CREATE TABLE rejected_records (
    id         INTEGER PRIMARY KEY,
    import_id  INTEGER NOT NULL REFERENCES imports(id),
    line       INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    raw_prefix TEXT NOT NULL                -- at most 256 bytes of the record
);

CREATE TABLE rules (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    level      TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT '',
    techniques TEXT NOT NULL DEFAULT '',    -- MITRE ATT&CK ids, comma-separated
    refs       TEXT NOT NULL DEFAULT '',
    logsource  TEXT NOT NULL DEFAULT '',
    file       TEXT NOT NULL DEFAULT '',
    enabled    INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE incidents (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    severity   INTEGER NOT NULL,
    status     TEXT NOT NULL DEFAULT 'new',
    status_set_manually INTEGER NOT NULL DEFAULT 0,
    reason     TEXT NOT NULL,               -- why its alerts were grouped
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    first_event_time INTEGER NOT NULL,
    last_event_time  INTEGER NOT NULL
);

CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    rule_id          TEXT NOT NULL REFERENCES rules(id),
    title            TEXT NOT NULL,
    severity         INTEGER NOT NULL,      -- 0 informational … 4 critical
    status           TEXT NOT NULL DEFAULT 'new',           -- new, in_progress, resolved
    classification   TEXT,                  -- true_positive, false_positive, informational_expected_activity
    determination    TEXT,
    assigned_to      TEXT,
    machine_id       INTEGER NOT NULL REFERENCES machines(id),
    integration      TEXT NOT NULL,
    dedupe_key       TEXT NOT NULL DEFAULT '',
    event_count      INTEGER NOT NULL,
    first_event_time INTEGER NOT NULL,
    last_event_time  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    incident_id      INTEGER REFERENCES incidents(id),
    matched_fields   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alerts_dedupe ON alerts(rule_id, machine_id, dedupe_key, last_event_time);
CREATE INDEX alerts_time ON alerts(last_event_time);

CREATE TABLE alert_events (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    event_id INTEGER NOT NULL REFERENCES events(id),
    PRIMARY KEY (alert_id, event_id)
) WITHOUT ROWID;

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER REFERENCES alerts(id),
    incident_id INTEGER REFERENCES incidents(id),
    author      TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    time    INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,                  -- integration.on, token.create, ingest.refused, alert.update, …
    target  TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_time ON audit_log(time);

-- One row per alert with everything an analyst filters or reads on.
CREATE VIEW alert_view AS
SELECT
    a.id, a.rule_id, a.title, a.severity, a.status, a.classification, a.determination, a.assigned_to,
    a.event_count, a.first_event_time, a.last_event_time, a.created_at, a.updated_at,
    a.incident_id, a.integration, a.dedupe_key, a.matched_fields,
    m.id AS machine_id, m.hostname, m.os_platform, m.os_version,
    r.author, r.level AS rule_level, r.status AS rule_status, r.techniques, r.refs, r.file AS rule_file,
    r.logsource,
    i.display_name AS integration_name,
    n.title AS incident_title, n.status AS incident_status
FROM alerts a
JOIN machines m ON m.id = a.machine_id
LEFT JOIN rules r ON r.id = a.rule_id
LEFT JOIN integrations i ON i.name = a.integration
LEFT JOIN incidents n ON n.id = a.incident_id;
