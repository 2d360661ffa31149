-- Version 18: custom detections (`vigil detections add`): a saved hunting query with a schedule.
-- `vigil serve` runs each enabled one when it is due and raises an alert per returned row
-- (rule `custom:<name>`), deduplicated by machine and the row's `key`. Each run's outcome is
-- kept on the row so `vigil detections list` can show it.
CREATE TABLE custom_detections (
    name          TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    query         TEXT NOT NULL,
    every_seconds INTEGER NOT NULL CHECK (every_seconds > 0),
    severity      INTEGER NOT NULL,
    tags          TEXT NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    next_run_at   INTEGER NOT NULL,
    last_run_at   INTEGER,
    last_outcome  TEXT
) WITHOUT ROWID;
