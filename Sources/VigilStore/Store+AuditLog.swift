import VigilModel

extension Store: AuditLog {
    /// Appends one entry to the audit log (inside the caller's transaction, if any).
    public func appendAudit(actor: String, action: String, target: String, details: String = "") throws {
        try connection.statement("INSERT INTO audit_log (time, actor, action, target, details) VALUES (?, ?, ?, ?, ?)")
            .bind(Timestamp.now().microseconds, actor, action, target, details).run()
    }

    /// Audit log entries, newest first, filtered by action prefix, target and time.
    public func audit(action: String? = nil, target: String? = nil, since: Timestamp? = nil, limit: Int = 100) throws -> [AuditRow] {
        var conditions: [String] = []
        var values: [(any SQLValue)?] = []
        if let action { conditions.append(#"(action = ? OR action LIKE ? || '.%' ESCAPE '\')"#); values += [action, likeLiteral(action)] }
        if let target { conditions.append("target = ?"); values.append(target) }
        if let since { conditions.append("time >= ?"); values.append(since.microseconds) }
        values.append(limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try connection.statement("SELECT id, time, actor, action, target, details FROM audit_log \(whereClause) ORDER BY id DESC LIMIT ?")
            .bind(values).rows(Self.auditRow)
    }

    static func auditRow(_ row: Row) -> AuditRow {
        AuditRow(id: row.int("id"), time: row.time("time"), actor: row.text("actor"), action: row.text("action"),
                 target: row.text("target"), details: row.text("details"))
    }

    /// The audit history of an alert or incident (`alert:7`, `incident:3`), oldest first.
    public func history(of target: String) throws -> [AuditRow] {
        try connection.statement("SELECT id, time, actor, action, target, details FROM audit_log WHERE target = ? ORDER BY id")
            .bind(target).rows(Self.auditRow)
    }
}
