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

/// Rules kept in the store, on either store: versions added with `vigil rules add`, and the
/// rules an operator turned off. The SQL is written once, for both dialects, below.
public protocol RuleStore: AnyObject {
    /// Stores `text` as the next version of rule `ruleID`, audited; returns that version, or the
    /// current one unchanged when the text is the same as the latest.
    @discardableResult
    func addStoredRule(id ruleID: String, title: String, source: String, text: String, actor: String) throws -> (version: Int, changed: Bool)
    /// The latest version of every stored rule, by rule id.
    func storedRules() throws -> [StoredRule]
    /// Every version of one stored rule, newest first.
    func storedRuleHistory(id ruleID: String) throws -> [StoredRule]
    /// Turns a rule off or back on for imports and the server; recorded in the audit log.
    func setRule(_ id: String, enabled: Bool, actor: String) throws
    /// The ids of rules an operator turned off.
    func disabledRuleIDs() throws -> Set<String>
}

extension RuleStore where Self: SQLWriter & AuditLog {
    @discardableResult
    public func addStoredRule(id ruleID: String, title: String, source: String, text: String, actor: String) throws -> (version: Int, changed: Bool) {
        try inTransaction {
            let latest = try readFirst("SELECT version, text FROM stored_rules WHERE rule_id = ? ORDER BY version DESC LIMIT 1", [.text(ruleID)]) {
                (version: Int(try $0.int("version")), text: try $0.text("text"))
            }
            if let latest, latest.text == text { return (latest.version, false) }
            let version = (latest?.version ?? 0) + 1
            try write("INSERT INTO stored_rules (rule_id, version, title, source, text, added_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [.text(ruleID), .int(version), .text(title), .text(source), .text(text), .int(Timestamp.now().microseconds), .text(actor)])
            try appendAudit(actor: actor, action: "rule.store", target: ruleID, details: "version \(version) from \(source)")
            return (version, true)
        }
    }

    public func storedRules() throws -> [StoredRule] {
        try read("""
            SELECT \(storedRuleColumns) FROM stored_rules s
            WHERE s.version = (SELECT max(version) FROM stored_rules WHERE rule_id = s.rule_id) ORDER BY s.rule_id
            """, [], StoredRule.init(row:))
    }

    public func storedRuleHistory(id ruleID: String) throws -> [StoredRule] {
        try read("SELECT \(storedRuleColumns) FROM stored_rules s WHERE rule_id = ? ORDER BY version DESC", [.text(ruleID)], StoredRule.init(row:))
    }

    public func setRule(_ id: String, enabled: Bool, actor: String) throws {
        try inTransaction {
            try write("""
                INSERT INTO rule_overrides (rule_id, enabled, changed_at, actor) VALUES (?, ?, ?, ?)
                ON CONFLICT (rule_id) DO UPDATE SET enabled = excluded.enabled, changed_at = excluded.changed_at, actor = excluded.actor
                """, [.text(id), .int(enabled ? 1 : 0), .int(Timestamp.now().microseconds), .text(actor)])
            try appendAudit(actor: actor, action: enabled ? "rule.enable" : "rule.disable", target: id, details: "")
        }
    }

    public func disabledRuleIDs() throws -> Set<String> {
        Set(try read("SELECT rule_id FROM rule_overrides WHERE enabled = 0", []) { try $0.text("rule_id") })
    }

    private var storedRuleColumns: String { "s.rule_id, s.version, s.title, s.source, s.text, s.added_at, s.actor" }
}

extension Store: RuleStore {}

extension StoredRule {
    /// A version read from `storedRuleColumns`.
    init(row: any SQLRow) throws {
        self.init(ruleID: try row.text("rule_id"), version: Int(try row.int("version")), title: try row.text("title"),
                  source: try row.text("source"), text: try row.text("text"), addedAt: try row.time("added_at"), actor: try row.text("actor"))
    }
}
