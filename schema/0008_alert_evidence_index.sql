-- Version 8: `vigil purge` keeps alert evidence, so it looks events up in alert_events by event.
CREATE INDEX alert_events_event ON alert_events(event_id);
