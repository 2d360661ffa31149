import VigilModel

extension Store {
    /// Turns a rule off or back on for imports and the server; recorded in the audit log.
    public func setRule(_ id: String, enabled: Bool, actor: String) throws {
        try connection.transaction {
            try connection.statement("""
                INSERT INTO rule_overrides (rule_id, enabled, changed_at, actor) VALUES (?, ?, ?, ?)
                ON CONFLICT(rule_id) DO UPDATE SET enabled = excluded.enabled, changed_at = excluded.changed_at, actor = excluded.actor
                """).bind(id, enabled, Timestamp.now().microseconds, actor).run()
            try appendAudit(actor: actor, action: enabled ? "rule.enable" : "rule.disable", target: id)
        }
    }

    /// The ids of rules an operator turned off.
    public func disabledRuleIDs() throws -> Set<String> {
        Set(try connection.statement("SELECT rule_id FROM rule_overrides WHERE enabled = 0").rows { $0.text("rule_id") })
    }
}
