-- Alert counts without a hot row: the triggers append a +1 or -1 change per alert instead of
-- updating one row per (day, severity, integration), which every writer's new alerts touched
-- in whatever order they came, so that two nodes could deadlock on them. alert_counts becomes
-- a view that sums the changes, with the columns readers know.
CREATE TABLE alert_count_changes (
    day         BIGINT NOT NULL,
    severity    INTEGER NOT NULL,
    integration TEXT NOT NULL,
    change      INTEGER NOT NULL
);
CREATE INDEX alert_count_changes_day ON alert_count_changes (day);
INSERT INTO alert_count_changes (day, severity, integration, change) SELECT day, severity, integration, count FROM alert_counts WHERE count <> 0;
DROP TABLE alert_counts;
CREATE VIEW alert_counts AS
SELECT day, severity, integration, SUM(change)::bigint AS count FROM alert_count_changes GROUP BY day, severity, integration;

CREATE OR REPLACE FUNCTION alert_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO alert_count_changes (day, severity, integration, change)
            VALUES (OLD.last_event_time / 86400000000, OLD.severity, OLD.integration, -1);
        UPDATE machines SET alert_count = alert_count - 1 WHERE id = OLD.machine_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO alert_count_changes (day, severity, integration, change)
            VALUES (NEW.last_event_time / 86400000000, NEW.severity, NEW.integration, 1);
        UPDATE machines SET alert_count = alert_count + 1 WHERE id = NEW.machine_id;
    END IF;
    RETURN NULL;
END $$;
