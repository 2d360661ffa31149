import CSQLite
import VigilModel

/// A prepared statement, finalized when released. Parameters are always bound, never spliced.
package final class Statement {
    private let handle: OpaquePointer
    private unowned let connection: Connection
    package let sql: String

    init(connection: Connection, sql: String) throws(StoreError) {
        var statement: OpaquePointer?
        let result = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else { throw connection.error(result, sql: sql) }
        self.handle = statement
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// The result columns' names in order, as the query names them (use `AS` for expressions).
    package private(set) lazy var columnNames: [String] = (0..<sqlite3_column_count(handle)).map { column in
        sqlite3_column_name(handle, column).map { String(cString: $0) } ?? ""
    }

    /// Each result column's position, by name.
    private(set) lazy var columnIndex: [String: Int32] = Dictionary(
        columnNames.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { first, _ in first })

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        repeatedTexts.removeAll(keepingCapacity: true)
    }

    /// What `bindRepeatedText` last bound, by parameter index (`.none`: nothing yet).
    private var repeatedTexts: [String??] = []

    /// Binds `value` (NULL when nil) to parameter `index`, but hands it to SQLite only when it
    /// differs from what this method bound there before: SQLite allocates a copy of every text
    /// it is given, and a bound value lasts across steps until the statement is reset. For
    /// values that mostly repeat from row to row, such as a batch's integration and format. A
    /// parameter bound this way is bound only this way (asserted in debug builds).
    package func bindRepeatedText(_ value: String?, at index: Int32) {
        let slot = Int(index)
        if slot >= repeatedTexts.count { repeatedTexts += repeatElement(.none, count: slot + 1 - repeatedTexts.count) }
        if case .some(let bound) = repeatedTexts[slot], bound == value { return }
        if let value { bindUTF8(value, to: handle, at: index) } else { sqlite3_bind_null(handle, index) }
        repeatedTexts[slot] = .some(value)
    }

    /// Whether `bindRepeatedText` owns parameter `index`; for the other binders' assertions.
    private func isRepeated(_ index: Int32) -> Bool {
        Int(index) < repeatedTexts.count && repeatedTexts[Int(index)] != nil
    }

    /// Binds `values` to parameters 1…n. Strings are copied (`SQLITE_TRANSIENT`).
    @discardableResult
    package func bind(_ values: (any SQLValue)?...) -> Statement {
        bind(values)
    }

    /// Array form of `bind(_:...)`.
    @discardableResult
    package func bind(_ values: [(any SQLValue)?]) -> Statement {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            assert(!isRepeated(index), "parameter \(index) of \(sql) is bound with bindRepeatedText")
            if let value { value.bind(to: handle, at: index) } else { sqlite3_bind_null(handle, index) }
        }
        return self
    }

    /// Binds one text value by position without boxing, for hot paths.
    package func bindText(_ value: String, at index: Int32) {
        assert(!isRepeated(index), "parameter \(index) of \(sql) is bound with bindRepeatedText")
        bindUTF8(value, to: handle, at: index)
    }

    /// Binds `text` to parameter `index` while `body` runs, without SQLite copying it
    /// (`SQLITE_STATIC`): the steps `body` takes read the bytes in place. SQLite reads a bound
    /// parameter only while the statement steps, and the parameter is bound to NULL as soon as
    /// `body` returns, while the bytes still exist: no later step can read them.
    package func withUnsafeTextInPlace<T>(_ text: String, at index: Int32, _ body: () throws -> T) rethrows -> T {
        assert(!isRepeated(index), "parameter \(index) of \(sql) is bound with bindRepeatedText")
        var text = text
        return try text.withUTF8 { bytes in
            guard let start = bytes.baseAddress, bytes.count > 0 else {
                bindUTF8("", to: handle, at: index)
                return try body()
            }
            let bound = start.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
                sqlite3_bind_text(handle, index, chars, Int32(bytes.count), nil)
            }
            assert(bound == SQLITE_OK, "binding parameter \(index) of \(sql) failed: \(bound)")
            defer { sqlite3_bind_null(handle, index) }
            return try body()
        }
    }

    /// Binds one integer by position without boxing, for hot paths.
    package func bindInt(_ value: Int64, at index: Int32) {
        assert(!isRepeated(index), "parameter \(index) of \(sql) is bound with bindRepeatedText")
        sqlite3_bind_int64(handle, index, value)
    }

    /// Binds NULL by position.
    package func bindNull(at index: Int32) {
        assert(!isRepeated(index), "parameter \(index) of \(sql) is bound with bindRepeatedText")
        sqlite3_bind_null(handle, index)
    }

    /// Runs a statement that returns no rows.
    package func run() throws(StoreError) {
        let result = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard result == SQLITE_DONE || result == SQLITE_ROW else { throw connection.error(result, sql: sql) }
    }

    /// Steps through the result rows, calling `body` with each.
    package func forEachRow(_ body: (Row) -> Void) throws(StoreError) {
        defer { sqlite3_reset(handle) }
        while true {
            let result = sqlite3_step(handle)
            switch result {
            case SQLITE_ROW: body(Row(handle: handle, statement: self))
            case SQLITE_DONE: return
            default: throw connection.error(result, sql: sql)
            }
        }
    }

    /// All rows mapped through `transform`.
    package func rows<T>(_ transform: (Row) -> T) throws(StoreError) -> [T] {
        var result: [T] = []
        try forEachRow { result.append(transform($0)) }
        return result
    }

    /// The first column of the first row as an integer, or nil when there is no row.
    package func firstInteger() throws(StoreError) -> Int64? {
        defer { sqlite3_reset(handle) }
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return sqlite3_column_int64(handle, 0)
        case SQLITE_DONE: return nil
        default: throw connection.error(result, sql: sql)
        }
    }

    /// The first row mapped through `transform`, or nil when there is none.
    package func firstRow<T>(_ transform: (Row) -> T) throws(StoreError) -> T? {
        defer { sqlite3_reset(handle) }
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return transform(Row(handle: handle, statement: self))
        case SQLITE_DONE: return nil
        default: throw connection.error(result, sql: sql)
        }
    }
}

/// The current row of a stepping statement, read by column name; valid only inside the callback.
///
/// A name the query does not select is a programming error: it stops the process with the
/// name and the statement, rather than read a wrong or empty value.
package struct Row {
    let handle: OpaquePointer
    let statement: Statement

    private func index(_ name: String) -> Int32 {
        guard let index = statement.columnIndex[name] else {
            preconditionFailure("column '\(name)' is not selected by: \(statement.sql)")
        }
        return index
    }

    /// The names of the columns this row has, in order.
    package var columnNames: [String] { statement.columnNames }

    package func int(_ name: String) -> Int64 { sqlite3_column_int64(handle, index(name)) }

    package func optionalInt(_ name: String) -> Int64? {
        let column = index(name)
        return sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
    }

    package func bool(_ name: String) -> Bool { int(name) != 0 }

    package func time(_ name: String) -> Timestamp { Timestamp(microseconds: int(name)) }

    package func optionalTime(_ name: String) -> Timestamp? { optionalInt(name).map(Timestamp.init(microseconds:)) }

    package func text(_ name: String) -> String { optionalText(name) ?? "" }

    package func optionalText(_ name: String) -> String? {
        let column = index(name)
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    package func blob(_ name: String) -> [UInt8] {
        let column = index(name)
        guard let pointer = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// A Swift value that can be bound to a statement parameter.
package protocol SQLValue {
    func bind(to statement: OpaquePointer, at index: Int32)
}

extension String: SQLValue {
    package func bind(to statement: OpaquePointer, at index: Int32) {
        bindUTF8(self, to: statement, at: index)
    }
}

extension Int64: SQLValue {
    package func bind(to statement: OpaquePointer, at index: Int32) { sqlite3_bind_int64(statement, index, self) }
}

extension Int: SQLValue {
    package func bind(to statement: OpaquePointer, at index: Int32) { sqlite3_bind_int64(statement, index, Int64(self)) }
}

extension Bool: SQLValue {
    package func bind(to statement: OpaquePointer, at index: Int32) { sqlite3_bind_int64(statement, index, self ? 1 : 0) }
}

extension [UInt8]: SQLValue {
    package func bind(to statement: OpaquePointer, at index: Int32) {
        withUnsafeBytes { bytes in
            _ = sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), csqlite_transient())
        }
    }
}

/// Binds `text` as TEXT (never NULL, even when empty), copying it.
private func bindUTF8(_ text: String, to statement: OpaquePointer, at index: Int32) {
    var text = text
    text.withUTF8 { bytes in
        guard bytes.count > 0 else {
            _ = sqlite3_bind_text(statement, index, "", 0, csqlite_transient())
            return
        }
        bytes.withMemoryRebound(to: CChar.self) { chars in
            _ = sqlite3_bind_text(statement, index, chars.baseAddress, Int32(chars.count), csqlite_transient())
        }
    }
}
