-- Hunting SQL on PostgreSQL. The views an analyst queries (`vigil query`, POST /api/v1/query)
-- live in a schema of their own, with the columns SQLite's temporary hunting views have:
-- times as ISO 8601 text and `*_us` columns as microseconds since 1970, and `field(fields,
-- name)` reads one event field. Queries run as a separate login role that `vigil init
-- --hunting-role NAME` grants this schema to, and nothing else: the views read the tables with
-- their owner's rights, so the tables behind them (API keys, token hashes, webhook secrets)
-- stay out of reach, and that role cannot become the owner to reach them.
CREATE SCHEMA hunting;

CREATE FUNCTION hunting.iso8601(microseconds BIGINT) RETURNS TEXT LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(to_timestamp(microseconds / 1e6) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The value of event field `name` (NULL when absent) as text, whatever characters the name holds.
CREATE FUNCTION hunting.field(fields TEXT, name TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (fields::jsonb) ->> name
$$;

CREATE VIEW hunting.events AS
SELECT e.id, hunting.iso8601(e.time) AS time, e.time AS time_us, m.hostname, m.os_platform, m.os_version, e.integration,
    e.source_format, e.product, e.category, e.service, e.fields, e.raw, e.import_id, e.line
FROM public.events e JOIN public.machines m ON m.id = e.machine_id;

CREATE VIEW hunting.alerts AS
SELECT a.id, a.rule_id, a.title, CASE a.severity WHEN 0 THEN 'informational' WHEN 1 THEN 'low' WHEN 2 THEN 'medium'
        WHEN 3 THEN 'high' ELSE 'critical' END AS severity, a.severity AS severity_rank, a.status, a.classification,
    a.determination, a.assigned_to, m.hostname, m.os_platform, a.integration, a.event_count,
    hunting.iso8601(a.first_event_time) AS first_event_time, hunting.iso8601(a.last_event_time) AS last_event_time,
    a.last_event_time AS last_event_time_us, a.incident_id, a.matched_fields, r.techniques AS mitre_techniques, r.author
FROM public.alerts a JOIN public.machines m ON m.id = a.machine_id LEFT JOIN public.rules r ON r.id = a.rule_id;

CREATE VIEW hunting.machines AS
SELECT id, hostname, os_platform, os_version, hunting.iso8601(first_seen) AS first_seen, hunting.iso8601(last_seen) AS last_seen,
    last_integration, event_count
FROM public.machines;

CREATE VIEW hunting.incidents AS
SELECT id, title, CASE severity WHEN 0 THEN 'informational' WHEN 1 THEN 'low' WHEN 2 THEN 'medium' WHEN 3 THEN 'high'
        ELSE 'critical' END AS severity, status, reason, assigned_to, classification,
    hunting.iso8601(first_event_time) AS first_event_time, hunting.iso8601(last_event_time) AS last_event_time
FROM public.incidents;

CREATE VIEW hunting.detections AS
SELECT ae.alert_id, ae.event_id, a.rule_id, a.title, m.hostname, hunting.iso8601(e.time) AS time
FROM public.alert_events ae JOIN public.alerts a ON a.id = ae.alert_id JOIN public.events e ON e.id = ae.event_id
    JOIN public.machines m ON m.id = e.machine_id;

REVOKE ALL ON SCHEMA hunting FROM PUBLIC;
REVOKE ALL ON FUNCTION hunting.iso8601(BIGINT), hunting.field(TEXT, TEXT) FROM PUBLIC;
