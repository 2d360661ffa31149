-- A detection after its alert was resolved opens a new alert instead of vanishing into the
-- resolved one; the new alert names the one it follows.
ALTER TABLE alerts ADD COLUMN previous_alert_id INTEGER REFERENCES alerts(id);
CREATE INDEX alerts_previous ON alerts(previous_alert_id) WHERE previous_alert_id IS NOT NULL;

DROP VIEW alert_view;
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
