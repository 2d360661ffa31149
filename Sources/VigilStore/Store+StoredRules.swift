import VigilModel

/// One version of a rule stored with `vigil rules add`.
public struct StoredRule: Sendable, Equatable {
    public var ruleID: String
    public var version: Int
    public var title: String
    /// The file it was added from.
    public var source: String
    /// The rule's YAML, as added.
    public var text: String
    public var addedAt: Timestamp
    public var actor: String

    /// Where loaded rules say this one comes from (`stored:ID@vN`), in listings and warnings.
    public var origin: String { "stored:\(ruleID)@v\(version)" }

    /// Every column, as a store reads them.
    package init(ruleID: String, version: Int, title: String, source: String, text: String, addedAt: Timestamp, actor: String) {
        self.ruleID = ruleID
        self.version = version
        self.title = title
        self.source = source
        self.text = text
        self.addedAt = addedAt
        self.actor = actor
    }
}

extension Store {
    /// Stores `text` as the next version of rule `ruleID`, audited; returns that version, or the
    /// current one unchanged when the text is the same as the latest.
    @discardableResult
    public func addStoredRule(id ruleID: String, title: String, source: String, text: String, actor: String) throws -> (version: Int, changed: Bool) {
        try connection.transaction {
            let latest = try connection.statement("SELECT version, text FROM stored_rules WHERE rule_id = ? ORDER BY version DESC LIMIT 1")
                .bind(ruleID).firstRow { (version: Int($0.int("version")), text: $0.text("text")) }
            if let latest, latest.text == text { return (latest.version, false) }
            let version = (latest?.version ?? 0) + 1
            try connection.statement("""
                INSERT INTO stored_rules (rule_id, version, title, source, text, added_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)
                """).bind(ruleID, version, title, source, text, Timestamp.now().microseconds, actor).run()
            try appendAudit(actor: actor, action: "rule.store", target: ruleID, details: "version \(version) from \(source)")
            return (version, true)
        }
    }

    /// The latest version of every stored rule, by rule id.
    public func storedRules() throws -> [StoredRule] {
        try connection.statement("""
            SELECT s.* FROM stored_rules s
            WHERE s.version = (SELECT max(version) FROM stored_rules WHERE rule_id = s.rule_id) ORDER BY s.rule_id
            """).rows(Self.storedRule)
    }

    /// Every version of one stored rule, newest first.
    public func storedRuleHistory(id ruleID: String) throws -> [StoredRule] {
        try connection.statement("SELECT * FROM stored_rules WHERE rule_id = ? ORDER BY version DESC").bind(ruleID).rows(Self.storedRule)
    }

    static func storedRule(_ row: Row) -> StoredRule {
        StoredRule(ruleID: row.text("rule_id"), version: Int(row.int("version")), title: row.text("title"), source: row.text("source"),
                   text: row.text("text"), addedAt: row.time("added_at"), actor: row.text("actor"))
    }
}
