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

extension Store: SQLReader {
    public var dialect: SQLDialect { .sqlite }

    public func read<T>(_ sql: String, _ values: [SQLParameter], _ transform: (any SQLRow) throws -> T) throws -> [T] {
        var result: [T] = []
        // SQLite rows never fail to read; a transform's own error ends the read all the same.
        var failure: (any Error)?
        try connection.statement(sql).bind(values.map(\.sqliteValue)).forEachRow { row in
            guard failure == nil else { return }
            do { result.append(try transform(row)) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }
}
