-- Vigil's schema on PostgreSQL: the same logical tables, columns and view as the SQLite schema
-- (schema/*.sql at its latest version; SchemaParityTests compares the two). Times are
-- microseconds since 1970 in BIGINT, flags are 0/1 INTEGERs, so both backends read alike.
--
-- Differences, all physical:
-- - events is partitioned by range of its storage key. A key's high bits are its event's second
--   (EventKey.storageKey), so a range of keys is a range of time: one partition per UTC day,
--   created as events arrive, and `vigil purge` drops whole days. Days far from now go to
--   events_default, so a hostile sender cannot create partitions without bound.
-- - Machines' host names are unique case-insensitively through an index on lower(hostname)
--   (SQLite's COLLATE NOCASE).
-- - Foreign keys to events are not declared: PostgreSQL has none to a partitioned table's
--   non-partition column. The writer keeps alert_events consistent in its transactions.
-- - alert_counts is kept by PL/pgSQL triggers that do what SQLite's triggers do.

CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);

CREATE TABLE integrations (
    name            TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    platforms       TEXT NOT NULL,
    formats         TEXT NOT NULL,
    builtin         INTEGER NOT NULL DEFAULT 1,
    enabled         INTEGER NOT NULL DEFAULT 0,
    enabled_changed_at BIGINT,
    events_received BIGINT NOT NULL DEFAULT 0,
    events_refused  BIGINT NOT NULL DEFAULT 0,
    last_data_at    BIGINT
);

CREATE TABLE access_tokens (
    id           BIGSERIAL PRIMARY KEY,
    integration  TEXT NOT NULL REFERENCES integrations(name),
    token_hash   BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    revoked_reason TEXT,
    machines     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE machines (
    id          BIGSERIAL PRIMARY KEY,
    hostname    TEXT NOT NULL,
    os_platform TEXT NOT NULL,
    os_version  TEXT,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    last_integration TEXT,
    event_count BIGINT NOT NULL DEFAULT 0,
    alert_count BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX machines_hostname ON machines (lower(hostname));

CREATE TABLE imports (
    id            BIGSERIAL PRIMARY KEY,
    source        TEXT NOT NULL,
    format        TEXT NOT NULL,
    integration   TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    records_read  BIGINT NOT NULL DEFAULT 0,
    events_stored BIGINT NOT NULL DEFAULT 0,
    rejected      BIGINT NOT NULL DEFAULT 0,
    duplicates    BIGINT NOT NULL DEFAULT 0,
    alerts_raised BIGINT NOT NULL DEFAULT 0,
    status        TEXT NOT NULL
);

CREATE TABLE rejected_records (
    id         BIGSERIAL PRIMARY KEY,
    import_id  BIGINT NOT NULL REFERENCES imports(id),
    line       BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    raw_prefix TEXT NOT NULL
);

CREATE TABLE rules (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    level      TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT '',
    techniques TEXT NOT NULL DEFAULT '',
    refs       TEXT NOT NULL DEFAULT '',
    logsource  TEXT NOT NULL DEFAULT '',
    file       TEXT NOT NULL DEFAULT '',
    enabled    INTEGER NOT NULL DEFAULT 1,
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE incidents (
    id         BIGSERIAL PRIMARY KEY,
    title      TEXT NOT NULL,
    severity   INTEGER NOT NULL,
    status     TEXT NOT NULL DEFAULT 'new',
    status_set_manually INTEGER NOT NULL DEFAULT 0,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_event_time BIGINT NOT NULL,
    last_event_time  BIGINT NOT NULL,
    assigned_to TEXT,
    classification TEXT
);

CREATE TABLE alerts (
    id               BIGSERIAL PRIMARY KEY,
    rule_id          TEXT NOT NULL REFERENCES rules(id),
    title            TEXT NOT NULL,
    severity         INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'new',
    classification   TEXT,
    determination    TEXT,
    assigned_to      TEXT,
    machine_id       BIGINT NOT NULL REFERENCES machines(id),
    integration      TEXT NOT NULL,
    dedupe_key       TEXT NOT NULL DEFAULT '',
    event_count      BIGINT NOT NULL,
    first_event_time BIGINT NOT NULL,
    last_event_time  BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    incident_id      BIGINT REFERENCES incidents(id),
    matched_fields   TEXT NOT NULL DEFAULT '{}',
    previous_alert_id BIGINT REFERENCES alerts(id)
);
CREATE INDEX alerts_dedupe ON alerts(rule_id, machine_id, dedupe_key, last_event_time);
CREATE INDEX alerts_time ON alerts(last_event_time);
CREATE INDEX alerts_machine ON alerts(machine_id, last_event_time);
CREATE INDEX alerts_rule ON alerts(rule_id, last_event_time);
CREATE INDEX alerts_incident ON alerts(incident_id);
CREATE INDEX alerts_severity ON alerts(severity, last_event_time);
CREATE INDEX alerts_created ON alerts(created_at);
CREATE INDEX alerts_first ON alerts(first_event_time);
CREATE INDEX alerts_previous ON alerts(previous_alert_id) WHERE previous_alert_id IS NOT NULL;

CREATE TABLE comments (
    id          BIGSERIAL PRIMARY KEY,
    alert_id    BIGINT REFERENCES alerts(id),
    incident_id BIGINT REFERENCES incidents(id),
    author      TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id      BIGSERIAL PRIMARY KEY,
    time    BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_time ON audit_log(time);
CREATE INDEX audit_log_target ON audit_log(target, id);

CREATE TABLE rule_overrides (
    rule_id    TEXT PRIMARY KEY,
    enabled    INTEGER NOT NULL,
    changed_at BIGINT NOT NULL,
    actor      TEXT NOT NULL
);

CREATE TABLE compatibility (
    platform     TEXT NOT NULL,
    distribution TEXT NOT NULL DEFAULT '',
    version      TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (platform, distribution, version)
);

CREATE TABLE machine_integrations (
    machine_id  BIGINT NOT NULL REFERENCES machines(id),
    integration TEXT NOT NULL REFERENCES integrations(name),
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (machine_id, integration)
);

CREATE TABLE correlation_state (
    correlation_id TEXT NOT NULL,
    group_key      TEXT NOT NULL,
    state          TEXT NOT NULL,
    PRIMARY KEY (correlation_id, group_key)
);

CREATE TABLE alert_indicators (
    alert_id BIGINT NOT NULL REFERENCES alerts(id),
    kind     TEXT NOT NULL,
    value    TEXT NOT NULL,
    time     BIGINT NOT NULL,
    PRIMARY KEY (kind, value, alert_id)
);

CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL,
    key_hash     BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    admin        INTEGER NOT NULL DEFAULT 0,
    expires_at   BIGINT
);

CREATE SEQUENCE events_id_seq;
CREATE TABLE events (
    id            BIGINT NOT NULL DEFAULT nextval('events_id_seq'),
    key           BIGINT NOT NULL,
    time          BIGINT NOT NULL,
    machine_id    BIGINT NOT NULL REFERENCES machines(id),
    integration   TEXT NOT NULL,
    source_format TEXT NOT NULL,
    product       TEXT,
    category      TEXT,
    service       TEXT,
    fields        TEXT NOT NULL,
    raw           TEXT NOT NULL,
    import_id     BIGINT REFERENCES imports(id),
    line          BIGINT,
    future_time   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (key)
) PARTITION BY RANGE (key);
ALTER SEQUENCE events_id_seq OWNED BY events.id;
CREATE INDEX events_id ON events(id);
CREATE TABLE events_default PARTITION OF events DEFAULT;

CREATE TABLE alert_events (
    alert_id BIGINT NOT NULL REFERENCES alerts(id),
    event_id BIGINT NOT NULL,
    PRIMARY KEY (alert_id, event_id)
);
CREATE INDEX alert_events_event ON alert_events(event_id);

CREATE VIEW alert_view AS
SELECT
    a.id, a.rule_id, a.title, a.severity, a.status, a.classification, a.determination, a.assigned_to,
    a.event_count, a.first_event_time, a.last_event_time, a.created_at, a.updated_at,
    a.incident_id, a.integration, a.dedupe_key, a.matched_fields, a.previous_alert_id,
    m.id AS machine_id, m.hostname, m.os_platform, m.os_version,
    r.author, r.level AS rule_level, r.status AS rule_status, r.techniques, r.refs, r.file AS rule_file,
    r.logsource, r.description,
    i.display_name AS integration_name,
    n.title AS incident_title, n.status AS incident_status
FROM alerts a
JOIN machines m ON m.id = a.machine_id
LEFT JOIN rules r ON r.id = a.rule_id
LEFT JOIN integrations i ON i.name = a.integration
LEFT JOIN incidents n ON n.id = a.incident_id;

CREATE TABLE machine_claims (
    machine_id BIGINT NOT NULL,
    integration TEXT NOT NULL,
    os_platform TEXT NOT NULL,
    os_version TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (machine_id, integration, os_platform, os_version)
);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('alert.created', 'alert.updated', 'incident.created', 'incident.updated')),
    alert_id BIGINT,
    incident_id BIGINT,
    changes TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE subscriptions (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    transport TEXT NOT NULL CHECK (transport IN ('webhook', 'syslog')),
    target TEXT NOT NULL,
    tls INTEGER NOT NULL DEFAULT 0,
    ca_file TEXT,
    format TEXT NOT NULL,
    min_severity INTEGER NOT NULL DEFAULT 0,
    platforms TEXT NOT NULL DEFAULT '',
    rules TEXT NOT NULL DEFAULT '',
    kinds TEXT NOT NULL,
    secret TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    cursor BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at BIGINT,
    delivered BIGINT NOT NULL DEFAULT 0,
    last_delivered_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE dead_letters (
    subscription_id BIGINT NOT NULL,
    outbox_id BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    failed_at BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, outbox_id)
);

CREATE TABLE stored_rules (
    rule_id  TEXT NOT NULL,
    version  INTEGER NOT NULL,
    title    TEXT NOT NULL,
    source   TEXT NOT NULL,
    text     TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    PRIMARY KEY (rule_id, version)
);

CREATE TABLE custom_detections (
    name          TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    query         TEXT NOT NULL,
    every_seconds BIGINT NOT NULL CHECK (every_seconds > 0),
    severity      INTEGER NOT NULL,
    tags          TEXT NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    actor         TEXT NOT NULL,
    next_run_at   BIGINT NOT NULL,
    last_run_at   BIGINT,
    last_outcome  TEXT
);

CREATE TABLE alert_counts (
    day         BIGINT NOT NULL,
    severity    INTEGER NOT NULL,
    integration TEXT NOT NULL,
    count       BIGINT NOT NULL,
    PRIMARY KEY (day, severity, integration)
);

-- alert_counts and machines.alert_count follow the alerts, as SQLite's triggers keep them.
CREATE FUNCTION alert_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE alert_counts SET count = count - 1
            WHERE day = OLD.last_event_time / 86400000000 AND severity = OLD.severity AND integration = OLD.integration;
        UPDATE machines SET alert_count = alert_count - 1 WHERE id = OLD.machine_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO alert_counts (day, severity, integration, count)
            VALUES (NEW.last_event_time / 86400000000, NEW.severity, NEW.integration, 1)
            ON CONFLICT (day, severity, integration) DO UPDATE SET count = alert_counts.count + 1;
        UPDATE machines SET alert_count = alert_count + 1 WHERE id = NEW.machine_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER alert_counts_after_insert AFTER INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION alert_counts_follow();
CREATE TRIGGER alert_counts_after_update AFTER UPDATE OF last_event_time, severity, integration, machine_id ON alerts
    FOR EACH ROW WHEN (OLD.last_event_time / 86400000000 <> NEW.last_event_time / 86400000000
        OR OLD.severity <> NEW.severity OR OLD.integration <> NEW.integration OR OLD.machine_id <> NEW.machine_id)
    EXECUTE FUNCTION alert_counts_follow();
CREATE TRIGGER alert_counts_after_delete AFTER DELETE ON alerts FOR EACH ROW EXECUTE FUNCTION alert_counts_follow();

