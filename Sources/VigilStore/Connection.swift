import CSQLite
import VigilModel

/// One SQLite connection. Not thread-safe: each owner uses it from one task at a time.
///
/// Statements are prepared once and cached by their SQL text.
package final class Connection {
    package let path: String
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]

    /// Configures SQLite for the process before its first connection: no memory statistics
    /// (their mutex around every allocation cost the writer about 8% of its time in an import).
    private static let configured: Void = {
        let result = csqlite_disable_memory_statistics()
        assert(result == SQLITE_OK, "SQLite was initialized before Vigil configured it (sqlite3_config returned \(result))")
    }()

    /// Opens (creating when `create`) the database at `path` and sets the pragmas Vigil relies on.
    package init(path: String, create: Bool = true, readOnly: Bool = false) throws(StoreError) {
        Self.configured
        self.path = path
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX
        flags |= readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0))
        let result = sqlite3_open_v2(path, &db, flags, nil)
        guard result == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StoreError(.sqlite(result), "cannot open the database at \(path): \(message). Check the path and its permissions, or pass --db.")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
        sqlite3_extended_result_codes(db, 1)
        if !readOnly {
            try execute("PRAGMA journal_mode = WAL")
        }
        try execute("PRAGMA synchronous = NORMAL")
        try execute("PRAGMA foreign_keys = OFF")
        try execute("PRAGMA secure_delete = OFF")
        try execute("PRAGMA cache_size = -65536")
        try execute("PRAGMA temp_store = MEMORY")
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs SQL that takes no parameters and returns no rows (may hold several statements).
    package func execute(_ sql: String) throws(StoreError) {
        var error: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &error)
        if result != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw StoreError(.sqlite(result & 0xff), "SQLite error \(result): \(message)", sql: sql)
        }
    }

    /// The cached prepared statement for `sql`, reset and with its bindings cleared.
    package func statement(_ sql: String) throws(StoreError) -> Statement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        let statement = try Statement(connection: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// Runs `body` in one transaction: it commits whole, or rolls back whole when `body` throws
    /// (its error is thrown as it was).
    package func transaction<T, Failure: Error>(_ body: () throws(Failure) -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do { return try commit(body()) } catch { rollBack(); throw error }
    }

    /// `transaction` for a body that fails only with store errors: so does the transaction.
    package func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute("BEGIN IMMEDIATE")
        do { return try commit(body()) } catch { rollBack(); throw error }
    }

    private func commit<T>(_ result: T) throws(StoreError) -> T {
        try execute("COMMIT")
        return result
    }

    private func rollBack() {
        rollbacks += 1
        try? execute("ROLLBACK")
    }

    /// How many transactions this connection has rolled back: what a writer learned inside
    /// one may be gone once this moves (`KnownMachines`).
    package private(set) var rollbacks = 0

    /// Whether a transaction is open (SQLite is not in autocommit mode).
    package var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last inserted row.
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    func error(_ result: Int32, sql: String) -> StoreError {
        let message = String(cString: sqlite3_errmsg(handle))
        return StoreError(.sqlite(result & 0xff), "SQLite error \(result): \(message)", sql: sql)
    }
}
