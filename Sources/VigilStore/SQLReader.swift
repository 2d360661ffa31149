import VigilModel

/// A row of a query's result, read by column name, from either store. NULL reads as 0 or
/// empty text from `int` and `text`, as SQLite's C API reads it.
public protocol SQLRow {
    func int(_ column: String) throws -> Int64
    func optionalInt(_ column: String) throws -> Int64?
    func text(_ column: String) throws -> String
    func optionalText(_ column: String) throws -> String?
}

extension SQLRow {
    func time(_ column: String) throws -> Timestamp { Timestamp(microseconds: try int(column)) }
    func optionalTime(_ column: String) throws -> Timestamp? { try optionalInt(column).map(Timestamp.init(microseconds:)) }
    func severity(_ column: String) throws -> Severity { Severity(rawValue: Int(try int(column))) ?? .informational }
    func bool(_ column: String) throws -> Bool { try int(column) != 0 }
}

extension Row: SQLRow {}

/// A store that runs Vigil's read queries in its SQL dialect. The queries behind
/// `AlertQueries` are written once, for both dialects (`AlertQueries+SQL.swift`).
public protocol SQLReader: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs `sql`, whose `?` placeholders take `values` in order, and transforms each row.
    func read<T>(_ sql: String, _ values: [SQLParameter], _ transform: (any SQLRow) throws -> T) throws -> [T]
}

extension SQLReader {
    /// The first row transformed, or nil when there is none.
    func readFirst<T>(_ sql: String, _ values: [SQLParameter], _ transform: (any SQLRow) throws -> T) throws -> T? {
        try read(sql, values, transform).first
    }
}

/// A store that also runs Vigil's SQL changes, in transactions: the analysts' changes behind
/// `AlertTriage` are written once, for both dialects (`AlertTriage+SQL.swift`).
public protocol SQLWriter: SQLReader {
    /// Runs `sql`, whose `?` placeholders take `values` in order; returns how many rows it changed.
    @discardableResult
    func write(_ sql: String, _ values: [SQLParameter]) throws -> Int
    /// Runs `body` in one transaction: it commits whole, or rolls back whole when `body` throws.
    func inTransaction<T>(_ body: () throws -> T) throws -> T
}

extension SQLWriter {
    /// Appends an alert or incident change to the outbox, inside the caller's transaction.
    package func appendOutbox(_ kind: OutboxKind, alertID: Int64? = nil, incidentID: Int64? = nil, changes: String = "") throws {
        try write("INSERT INTO outbox (kind, alert_id, incident_id, changes, created_at) VALUES (?, ?, ?, ?, ?)",
                  [.text(kind.rawValue), alertID.map(SQLParameter.int) ?? .null, incidentID.map(SQLParameter.int) ?? .null, .text(changes),
                   .int(Timestamp.now().microseconds)])
    }
}

extension Store: SQLWriter {
    public var dialect: SQLDialect { .sqlite }

    public func write(_ sql: String, _ values: [SQLParameter]) throws -> Int {
        try connection.statement(sql).bind(values.map(\.sqliteValue)).run()
        return connection.changes
    }

    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try connection.transaction(body)
    }

    public func read<T>(_ sql: String, _ values: [SQLParameter], _ transform: (any SQLRow) throws -> T) throws -> [T] {
        try connection.read(sql, values, transform)
    }
}

extension Connection {
    /// The rows of `sql`, with `values` bound to its `?`s, each transformed.
    func read<T>(_ sql: String, _ values: [SQLParameter], _ transform: (any SQLRow) throws -> T) throws -> [T] {
        var result: [T] = []
        // SQLite rows never fail to read; a transform's own error ends the read all the same.
        var failure: (any Error)?
        try statement(sql).bind(values.map(\.sqliteValue)).forEachRow { row in
            guard failure == nil else { return }
            do { result.append(try transform(row)) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }
}
