-- The detections queue (PostgreSQL only; a single SQLite node keeps its correlation windows in
-- its own writer). Ingest nodes add the detections that feed correlation rules in their push's
-- transaction; the node holding the correlator role (an advisory lock) takes them oldest event
-- first with FOR UPDATE SKIP LOCKED, and deletes them in the transaction that applies them.
CREATE TABLE detection_queue (
    id          BIGSERIAL PRIMARY KEY,
    event_id    BIGINT NOT NULL,
    event_key   BIGINT NOT NULL,
    event_time  BIGINT NOT NULL,
    machine_id  BIGINT NOT NULL REFERENCES machines(id),
    hostname    TEXT NOT NULL,
    integration TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    fields      TEXT NOT NULL,           -- JSON object: the fields the correlations read
    indicators  TEXT NOT NULL,           -- JSON array of [kind, value]
    enqueued_at BIGINT NOT NULL
);
CREATE INDEX detection_queue_order ON detection_queue (event_time, id);
