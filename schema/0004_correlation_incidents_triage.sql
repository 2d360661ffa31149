-- Correlation, incidents and triage.

-- Sliding-window state of Sigma correlation rules, kept between imports so a correlation
-- can span two files. One row per (correlation rule, group-by values).
CREATE TABLE correlation_state (
    correlation_id TEXT NOT NULL,
    group_key      TEXT NOT NULL,
    state          TEXT NOT NULL,           -- JSON: the events inside the window
    PRIMARY KEY (correlation_id, group_key)
) WITHOUT ROWID;

-- Indicators an alert carries (file hashes, remote IPs), to group alerts of different
-- machines into one incident.
CREATE TABLE alert_indicators (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    kind     TEXT NOT NULL,                 -- sha256, sha1, md5, ip
    value    TEXT NOT NULL,
    time     INTEGER NOT NULL,
    PRIMARY KEY (kind, value, alert_id)
) WITHOUT ROWID;

ALTER TABLE rules ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN assigned_to TEXT;
ALTER TABLE incidents ADD COLUMN classification TEXT;

CREATE INDEX alerts_machine ON alerts(machine_id, last_event_time);
CREATE INDEX alerts_rule ON alerts(rule_id, last_event_time);
CREATE INDEX alerts_incident ON alerts(incident_id);
CREATE INDEX alerts_severity ON alerts(severity, last_event_time);
CREATE INDEX alerts_created ON alerts(created_at);
CREATE INDEX alerts_first ON alerts(first_event_time);
CREATE INDEX audit_log_target ON audit_log(target, id);

DROP VIEW alert_view;
CREATE VIEW alert_view AS
SELECT
    a.id, a.rule_id, a.title, a.severity, a.status, a.classification, a.determination, a.assigned_to,
    a.event_count, a.first_event_time, a.last_event_time, a.created_at, a.updated_at,
    a.incident_id, a.integration, a.dedupe_key, a.matched_fields,
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
