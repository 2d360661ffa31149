import VigilModel

/// `text` for a LIKE pattern with `ESCAPE '\'`: its `%` and `_` match only themselves.
package func likeLiteral(_ text: String) -> String {
    var escaped = ""
    for character in text {
        if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
        escaped.append(character)
    }
    return escaped
}

extension Store {
    /// Row counts of the main tables, for tests and `vigil demo`.
    public func count(_ table: CountedTable) throws -> Int {
        try connection.statement("SELECT COUNT(*) AS count FROM \(table.rawValue)").firstRow { Int($0.int("count")) } ?? 0
    }

    /// Tables whose rows `count(_:)` reports (a closed set: table names are never user text).
    public enum CountedTable: String, Sendable {
        case events, alerts, machines, rejectedRecords = "rejected_records", imports, alertEvents = "alert_events", auditLog = "audit_log"
    }
}
