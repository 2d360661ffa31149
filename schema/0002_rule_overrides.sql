-- Rules turned off (or back on) by an operator with `vigil rules disable|enable ID`.
CREATE TABLE rule_overrides (
    rule_id    TEXT PRIMARY KEY,
    enabled    INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    actor      TEXT NOT NULL
);
