-- Version 17: detection rules stored in the database (`vigil rules add`), versioned. Each
-- change of a rule's text is a new version; imports and the server load the latest version of
-- each, on top of the default pack, unless `--rules` names others for one run. Turning a rule
-- off or on is `rule_overrides`, as for every rule.
CREATE TABLE stored_rules (
    rule_id  TEXT NOT NULL,
    version  INTEGER NOT NULL,
    title    TEXT NOT NULL,
    source   TEXT NOT NULL,
    text     TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    PRIMARY KEY (rule_id, version)
) WITHOUT ROWID;
