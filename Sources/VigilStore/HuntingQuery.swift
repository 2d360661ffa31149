import CSQLite
import Foundation
import VigilModel

/// Read-only SQL over the documented hunting views (`vigil query`), safe by construction:
/// - the connection is opened read-only (`SQLITE_OPEN_READONLY`) with `query_only` set;
/// - an authorizer admits only `SELECT`, reads through the views below and the functions in
///   `allowedFunctions`: no table behind them (API keys, token hashes, webhook secrets), no
///   `ATTACH`, `PRAGMA`, write or `load_extension`;
/// - a progress handler stops a query at its time limit, and rows stop at a cap.
public final class HuntingQuery {
    /// The views an analyst queries, with what each row is. Times are ISO 8601 text; `*_us`
    /// columns hold the same times as microseconds since 1970, for arithmetic.
    public static let views: [(name: String, about: String, sql: String)] = [
        ("events", "every stored event with its machine", """
            SELECT e.id, strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1e6, 'unixepoch') AS time, e.time AS time_us, m.hostname,
                m.os_platform, m.os_version, e.integration, e.source_format, e.product, e.category, e.service, e.fields, e.raw,
                e.import_id, e.line
            FROM main.events e JOIN main.machines m ON m.id = e.machine_id
            """),
        ("alerts", "every alert with its machine and rule", """
            SELECT a.id, a.rule_id, a.title, CASE a.severity WHEN 0 THEN 'informational' WHEN 1 THEN 'low' WHEN 2 THEN 'medium'
                WHEN 3 THEN 'high' ELSE 'critical' END AS severity, a.severity AS severity_rank, a.status, a.classification,
                a.determination, a.assigned_to, m.hostname, m.os_platform, a.integration, a.event_count,
                strftime('%Y-%m-%dT%H:%M:%fZ', a.first_event_time / 1e6, 'unixepoch') AS first_event_time,
                strftime('%Y-%m-%dT%H:%M:%fZ', a.last_event_time / 1e6, 'unixepoch') AS last_event_time,
                a.last_event_time AS last_event_time_us, a.incident_id, a.matched_fields, r.techniques AS mitre_techniques, r.author
            FROM main.alerts a JOIN main.machines m ON m.id = a.machine_id LEFT JOIN main.rules r ON r.id = a.rule_id
            """),
        ("machines", "every machine Vigil has seen", """
            SELECT id, hostname, os_platform, os_version, strftime('%Y-%m-%dT%H:%M:%fZ', first_seen / 1e6, 'unixepoch') AS first_seen,
                strftime('%Y-%m-%dT%H:%M:%fZ', last_seen / 1e6, 'unixepoch') AS last_seen, last_integration, event_count
            FROM main.machines
            """),
        ("incidents", "every incident", """
            SELECT id, title, CASE severity WHEN 0 THEN 'informational' WHEN 1 THEN 'low' WHEN 2 THEN 'medium' WHEN 3 THEN 'high'
                ELSE 'critical' END AS severity, status, reason, assigned_to, classification,
                strftime('%Y-%m-%dT%H:%M:%fZ', first_event_time / 1e6, 'unixepoch') AS first_event_time,
                strftime('%Y-%m-%dT%H:%M:%fZ', last_event_time / 1e6, 'unixepoch') AS last_event_time
            FROM main.incidents
            """),
        ("detections", "which stored event each alert cites", """
            SELECT ae.alert_id, ae.event_id, a.rule_id, a.title, m.hostname,
                strftime('%Y-%m-%dT%H:%M:%fZ', e.time / 1e6, 'unixepoch') AS time
            FROM main.alert_events ae JOIN main.alerts a ON a.id = ae.alert_id JOIN main.events e ON e.id = ae.event_id
            JOIN main.machines m ON m.id = e.machine_id
            """),
    ]

    /// The tables the views read; nothing else of the database is reachable.
    static let tablesBehindViews: Set<String> = ["events", "machines", "alerts", "rules", "incidents", "alert_events"]

    /// SQL functions a query may call; `field(fields, 'Name')` reads one event field.
    public static let allowedFunctions: Set<String> = [
        "abs", "avg", "coalesce", "count", "date", "datetime", "field", "glob", "group_concat", "hex", "ifnull", "iif", "instr",
        "json_array", "json_array_length", "json_each", "json_extract", "json_object", "json_type", "json_valid", "julianday",
        "length", "like", "lower", "ltrim", "max", "min", "nullif", "printf", "format", "replace", "round", "rtrim", "strftime",
        "string_agg", "substr", "substring", "sum", "time", "total", "trim", "typeof", "unixepoch", "upper", "row_number", "rank",
        "dense_rank", "lag", "lead", "first_value", "last_value", "ntile", "percent_rank", "cume_dist",
    ]

    /// The rows a query returned, and whether the cap cut them.
    public struct Result: Sendable {
        public var columns: [String]
        public var rows: [[JSONValue]]
        /// True when the query had more rows than the cap.
        public var truncated: Bool

        public init(columns: [String], rows: [[JSONValue]], truncated: Bool) {
            self.columns = columns
            self.rows = rows
            self.truncated = truncated
        }
    }

    private let connection: Connection
    /// The root pages of the tables behind the views and of their indexes: the only b-trees a
    /// query may open (SQLite asks the authorizer nothing for a table read for its row count alone).
    private let readableRootPages: Set<Int64>
    /// The deadline the progress handler checks; boxed so its C callback can read it.
    private let deadline = DeadlineBox()

    /// Opens the database at `path` read-only for hunting queries.
    public init(path: String) throws(StoreError) {
        connection = try Connection(path: path, create: false, readOnly: true)
        let tables = Self.tablesBehindViews.map { "'\($0)'" }.joined(separator: ", ")
        readableRootPages = Set(try connection.statement("SELECT rootpage FROM main.sqlite_schema WHERE tbl_name IN (\(tables)) AND rootpage > 0")
            .rows { $0.int("rootpage") })
        for view in Self.views { try connection.execute("CREATE TEMP VIEW \(view.name) AS \(view.sql)") }
        try connection.execute("PRAGMA query_only = ON")
        try connection.registerFieldFunction()
        try installGuards()
    }

    /// The columns `sql` would return, without running it: checks that it is one `SELECT` the
    /// guards admit (custom detections check their query when they are saved).
    public func columns(of sql: String) throws(StoreError) -> [String] {
        let statement = try prepare(sql)
        defer { sqlite3_finalize(statement) }
        return (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
    }

    /// Runs one `SELECT` and returns at most `rowCap` rows and about `byteCap` bytes of text
    /// (a hostile query cannot fill memory with wide rows); stops it after `timeout`.
    public func run(_ sql: String, timeout: Duration, rowCap: Int, byteCap: Int = 64 << 20) throws(StoreError) -> Result {
        let statement = try prepare(sql)
        defer { sqlite3_finalize(statement) }
        let columnCount = sqlite3_column_count(statement)
        let columns = (0..<columnCount).map { String(cString: sqlite3_column_name(statement, $0)) }
        var rows: [[JSONValue]] = []
        var bytes = 0
        deadline.set(ContinuousClock.now + timeout)
        defer { deadline.clear() }
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { return Result(columns: columns, rows: rows, truncated: false) }
            guard step == SQLITE_ROW else {
                if step == SQLITE_INTERRUPT {
                    throw StoreError(.timedOut, "the query ran past its time limit of \(timeout) and was stopped; narrow it (a time range, a machine, LIMIT) or give it more time (--timeout, or timeout over the API)")
                }
                throw Self.explain(step, message: String(cString: sqlite3_errmsg(connection.handle)))
            }
            if rows.count == rowCap || bytes > byteCap { return Result(columns: columns, rows: rows, truncated: true) }
            rows.append((0..<columnCount).map { Self.value(statement, $0) })
            bytes += (0..<columnCount).reduce(8) { $0 + Int(sqlite3_column_bytes(statement, $1)) }
        }
    }

    /// Prepares one read-only statement; the caller finalizes it.
    private func prepare(_ sql: String) throws(StoreError) -> OpaquePointer {
        var statement: OpaquePointer?
        // The rest of the text after the first statement; read while the C string is alive.
        let (prepared, rest) = sql.withCString { text in
            var tail: UnsafePointer<CChar>?
            let result = sqlite3_prepare_v2(connection.handle, text, -1, &statement, &tail)
            return (result, tail.map { String(cString: $0) } ?? "")
        }
        guard prepared == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw Self.explain(prepared, message: String(cString: sqlite3_errmsg(connection.handle)))
        }
        guard rest.allSatisfy({ $0.isWhitespace || $0 == ";" }) else {
            sqlite3_finalize(statement)
            throw StoreError(.invalidValue, "one statement at a time: remove what follows the first ';'")
        }
        guard sqlite3_stmt_readonly(statement) != 0 else {
            sqlite3_finalize(statement)
            throw StoreError(.invalidValue, "only SELECT queries run here; hunting never changes the database")
        }
        do {
            try checkTablesOpened(by: sql)
        } catch {
            sqlite3_finalize(statement)
            throw error
        }
        return statement
    }

    /// Refuses a statement whose program opens a b-tree other than the views' tables and
    /// indexes: `SELECT count(*) FROM api_keys` reads no column, so the authorizer never sees it.
    private func checkTablesOpened(by sql: String) throws(StoreError) {
        var program: OpaquePointer?
        guard sqlite3_prepare_v2(connection.handle, "EXPLAIN " + sql, -1, &program, nil) == SQLITE_OK, let program else {
            sqlite3_finalize(program)
            throw StoreError(.invalidValue, "the query cannot be checked: \(String(cString: sqlite3_errmsg(connection.handle))); EXPLAIN is not supported")
        }
        defer { sqlite3_finalize(program) }
        // EXPLAIN's columns: addr, opcode, p1, p2, p3, …; OpenRead's p2 is a root page, p3 the database (0 is main).
        while sqlite3_step(program) == SQLITE_ROW {
            guard let opcode = sqlite3_column_text(program, 1), ["OpenRead", "ReopenIdx"].contains(String(cString: opcode)) else { continue }
            guard sqlite3_column_int64(program, 4) == 0, readableRootPages.contains(sqlite3_column_int64(program, 3)) else {
                let views = HuntingQuery.views.map(\.name).joined(separator: ", ")
                throw StoreError(.invalidValue, "not allowed: the query reads a table other than the views \(views)")
            }
        }
    }

    private static func value(_ statement: OpaquePointer, _ index: Int32) -> JSONValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .number(Double(sqlite3_column_int64(statement, index)))
        case SQLITE_FLOAT: return .number(sqlite3_column_double(statement, index))
        case SQLITE_NULL: return .null
        default:
            guard let bytes = sqlite3_column_text(statement, index) else { return .null }
            return .string(String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, index))), as: UTF8.self))
        }
    }

    private static func explain(_ code: Int32, message: String) -> StoreError {
        if code & 0xff == SQLITE_AUTH || message.hasPrefix("not authorized") {
            let views = HuntingQuery.views.map(\.name).joined(separator: ", ")
            return StoreError(.invalidValue, "not allowed: \(message). Queries may only SELECT from the views \(views), with the functions listed in the README")
        }
        return StoreError(.sqlite(code & 0xff), "the query failed: \(message)")
    }

    /// Installs the authorizer and the progress handler. Their C callbacks see only static
    /// lists and the deadline box, which lives as long as this query object.
    private func installGuards() throws(StoreError) {
        sqlite3_set_authorizer(connection.handle, { _, action, first, second, database, view in
            // Unsafe: SQLite passes C strings valid for this call only; they are read here and not kept.
            func text(_ pointer: UnsafePointer<CChar>?) -> String? { pointer.map { String(cString: $0) } }
            switch action {
            case SQLITE_SELECT:
                return SQLITE_OK
            case SQLITE_READ:
                // A documented view; a table column read on a documented view's behalf; a
                // common table expression or subquery (no schema: built from such reads); or a
                // read of no column (a row count) of a table behind the views.
                let table = text(first) ?? "", column = text(second) ?? "", schema = text(database) ?? "", through = text(view)
                let viewNames = HuntingQuery.views.map(\.name)
                if schema == "temp" && viewNames.contains(table) { return SQLITE_OK }
                if schema == "main", let through, viewNames.contains(through) { return SQLITE_OK }
                if schema.isEmpty { return SQLITE_OK }
                if schema == "main", column.isEmpty, HuntingQuery.tablesBehindViews.contains(table) { return SQLITE_OK }
                return SQLITE_DENY
            case SQLITE_FUNCTION:
                // The function's name is the second argument.
                return HuntingQuery.allowedFunctions.contains((text(second) ?? "").lowercased()) ? SQLITE_OK : SQLITE_DENY
            case SQLITE_RECURSIVE:
                // Recursive CTEs are allowed; the time limit and row cap stop a runaway one.
                return SQLITE_OK
            default:
                return SQLITE_DENY
            }
        }, nil)
        sqlite3_progress_handler(connection.handle, 10_000, { context in
            // Unsafe: `context` is the deadline box, retained by the HuntingQuery that installed this handler.
            guard let context else { return 1 }
            return Unmanaged<DeadlineBox>.fromOpaque(context).takeUnretainedValue().passed ? 1 : 0
        }, Unmanaged.passUnretained(deadline).toOpaque())
    }
}

/// Runs analysts' read-only SQL over the hunting views of a store that is not a SQLite file
/// (`HuntingQuery` is SQLite's): PostgreSQL's, through a login role that reads those views only.
public protocol HuntingEngine: Sendable {
    /// Runs one `SELECT` and returns at most `rowCap` rows and about `byteCap` bytes; stops it
    /// after `timeout`. Throws a `StoreError`: `.timedOut`, or `.invalidValue` saying what to fix.
    func run(_ sql: String, timeout: Duration, rowCap: Int, byteCap: Int) async throws -> HuntingQuery.Result
}

/// A deadline a C callback can read.
final class DeadlineBox {
    private var instant: ContinuousClock.Instant?

    func set(_ instant: ContinuousClock.Instant) { self.instant = instant }
    func clear() { instant = nil }
    var passed: Bool { instant.map { ContinuousClock.now >= $0 } ?? false }
}

extension Connection {
    /// Registers `field(fields, name)`: the value of event field `name` in an event's `fields`
    /// JSON (NULL when absent), whatever characters the name holds.
    func registerFieldFunction() throws(StoreError) {
        let result = sqlite3_create_function_v2(
            handle, "field", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
            { context, count, arguments in
                // Unsafe: SQLite hands over `count` argument values, valid for this call only.
                assert(count == 2)
                guard let arguments, let fields = arguments[0], let name = arguments[1],
                      let json = sqlite3_value_text(fields), let key = sqlite3_value_text(name) else { return sqlite3_result_null(context) }
                let wanted = String(decoding: UnsafeBufferPointer(start: key, count: Int(sqlite3_value_bytes(name))), as: UTF8.self)
                guard let value = JSONText.member(wanted, in: UnsafeBufferPointer(start: json, count: Int(sqlite3_value_bytes(fields)))) else {
                    return sqlite3_result_null(context)
                }
                switch value {
                case .string(let string): sqlite3_result_text(context, string, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
                case .number(let number): sqlite3_result_double(context, number)
                case .bool(let flag): sqlite3_result_int64(context, flag ? 1 : 0)
                case .null: sqlite3_result_null(context)
                case .array, .object:
                    let encoded = (try? String(decoding: JSONEncoder.vigil.encode(value), as: UTF8.self)) ?? ""
                    sqlite3_result_text(context, encoded, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
                }
            }, nil, nil, nil)
        guard result == SQLITE_OK else { throw error(result, sql: "sqlite3_create_function_v2(field)") }
    }
}
