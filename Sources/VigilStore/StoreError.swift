import CSQLite

/// A failure in the store, with the SQLite result code or PostgreSQL SQLSTATE, and what to do about it.
///
/// Bound values never appear in the description: they may hold event payloads or secrets.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// SQLite returned this primary result code.
        case sqlite(Int32)
        /// The database was written by a newer Vigil.
        case newerSchema(found: Int, supported: Int)
        /// A row that must exist does not.
        case notFound
        /// A value does not fit the column it is meant for.
        case invalidValue
        /// Another process holds the database's writer lock.
        case busy
        /// A file kept next to the database (the writer lock) cannot be opened.
        case io
        /// A hunting query ran past its time limit and was stopped.
        case timedOut
        /// PostgreSQL refused a statement with this SQLSTATE (`23505` unique violation, …).
        case postgres(sqlState: String)
        /// The database server cannot be reached, or the connection to it was lost.
        case unavailable
    }

    public var code: Code
    public var message: String
    public var sql: String?

    public init(_ code: Code, _ message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// Whether the same work, tried again, is likely to succeed: the server was unreachable,
    /// or PostgreSQL chose this transaction to break a deadlock or a serialization conflict.
    public var isTransient: Bool {
        switch code {
        case .unavailable, .postgres(sqlState: "40P01"), .postgres(sqlState: "40001"): true
        case .sqlite(let result): result == 5  // SQLITE_BUSY
        default: false
        }
    }

    public var description: String {
        if let sql { return "\(message) (while running: \(sql.prefix(120)))" }
        return message
    }
}
