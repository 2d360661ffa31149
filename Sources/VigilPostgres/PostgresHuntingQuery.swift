import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import VigilModel
import VigilStore

/// Hunting SQL on PostgreSQL (`vigil query --hunting-store`, `POST /api/v1/query` on a node),
/// safe by construction, as `HuntingQuery` is on SQLite:
/// - queries run as a login role of their own (`url`), which may read the `hunting` schema's
///   views and nothing else (`vigil init --hunting-role`). Each connection first checks that
///   the role is no superuser, cannot become the schema's owner, and reads none of the tables;
///   a URL naming Vigil's own role is refused, since its queries could read API keys;
/// - each query is one `SELECT` in a `READ ONLY` transaction, with `statement_timeout` as its
///   time limit and `search_path` on the hunting views;
/// - rows are read as they arrive and reading stops at the row cap or the byte cap, so a
///   hostile query cannot fill memory; the connection is closed after each query.
public struct PostgresHuntingQuery: HuntingEngine {
    public let url: PostgresURL

    public init(url: PostgresURL) {
        self.url = url
    }

    public func run(_ sql: String, timeout: Duration, rowCap: Int, byteCap: Int = 64 << 20) async throws -> HuntingQuery.Result {
        var logger = Logger(label: "vigil.hunting")
        logger.logLevel = .critical
        let configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: try PostgresSession.tls(for: url))
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                                                              id: 1, logger: logger).get()
        } catch {
            let failure = PostgresSession.storeError(error, sql: nil)
            throw StoreError(failure.code, "cannot connect to the hunting store \(url): \(failure.message); check the URL, its role and password")
        }
        do {
            let result = try await query(sql, on: connection, timeout: timeout, rowCap: rowCap, byteCap: byteCap, logger: logger)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw Self.explain(error)
        }
    }

    private func query(_ sql: String, on connection: PostgresConnection, timeout: Duration, rowCap: Int, byteCap: Int,
                       logger: Logger) async throws -> HuntingQuery.Result {
        try await checkRole(connection, logger: logger)
        let milliseconds = max(1, Int(timeout / .milliseconds(1)))
        for setUp in ["BEGIN READ ONLY", "SET LOCAL statement_timeout = \(milliseconds)", "SET LOCAL search_path = hunting"] {
            try await connection.query(PostgresQuery(unsafeSQL: setUp), logger: logger)
        }
        // The analyst's SELECT as a subquery, on lines of its own so that a trailing `--` comment
        // ends before the closing parenthesis. More than one statement is refused by the
        // extended query protocol; the role and the read-only transaction bound what any SELECT reads.
        var body = Substring(sql)
        while let last = body.last, last.isWhitespace || last == ";" { body.removeLast() }
        let subquery = "(\n\(body)\n) AS hunt"
        let described = try await connection.query(PostgresQuery(unsafeSQL: "SELECT * FROM \(subquery) LIMIT 0"), logger: logger)
        let columns = described.columns.map(\.name)
        for try await _ in described {}
        // Each row as a JSON array of its values in column order: every type PostgreSQL has, as JSON.
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT (SELECT json_agg(cell.value ORDER BY cell.n) FROM json_each(row_to_json(hunt)) WITH ORDINALITY AS cell(key, value, n))::text
                AS line
            FROM \(subquery) LIMIT \(rowCap + 1)
            """), logger: logger)
        var values: [[JSONValue]] = []
        var bytes = 0
        var truncated = false
        for try await row in rows {
            if values.count == rowCap || bytes > byteCap {
                truncated = true
                break
            }
            let line = try row.decode(String?.self)
            bytes += (line?.utf8.count ?? 0) + 8
            guard let line, case .array(let cells) = JSONValue(parsing: line) else {
                values.append(Array(repeating: .null, count: columns.count))
                continue
            }
            values.append(cells)
        }
        return HuntingQuery.Result(columns: columns, rows: values, truncated: truncated)
    }

    /// Refuses a hunting role that could read more than the hunting views.
    private func checkRole(_ connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT r.rolsuper::int AS superuser, pg_has_role(session_user, n.nspowner, 'MEMBER')::int AS owner,
                COALESCE((SELECT bool_or(has_any_column_privilege(session_user, c.oid, 'SELECT')) FROM pg_class c
                          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')), false)::int AS tables,
                has_schema_privilege(session_user, n.oid, 'USAGE')::int AS hunting, session_user::text AS role
            FROM pg_roles r, pg_namespace n WHERE r.rolname = session_user AND n.nspname = 'hunting'
            """), logger: logger)
        var found: (superuser: Int, owner: Int, tables: Int, hunting: Int, role: String)?
        for try await row in rows { found = try row.decode((Int, Int, Int, Int, String).self) }
        guard let found else {
            throw StoreError(.invalidValue, "the hunting store \(url) has no hunting views; run `vigil init` with --store on it first")
        }
        let power = found.superuser == 1 ? "a superuser"
            : found.owner == 1 ? "it is, or may become, the role that owns Vigil's tables" : found.tables == 1 ? "it reads Vigil's tables" : nil
        if let power {
            throw StoreError(.invalidValue, """
                the hunting store's role \(found.role) can read more than the hunting views (\(power)), so an analyst's query \
                could read API keys and secrets. Create a role for hunting (CREATE ROLE vigil_hunter LOGIN PASSWORD '…'), run \
                `vigil init --store … --hunting-role vigil_hunter`, and name it in --hunting-store
                """)
        }
        guard found.hunting == 1 else {
            throw StoreError(.invalidValue, "the role \(found.role) may not read the hunting views yet; run `vigil init --store … --hunting-role \(found.role)`")
        }
    }

    /// A PostgreSQL failure as a hunting error that says what to change.
    private static func explain(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        let failure = PostgresSession.storeError(error, sql: nil)
        guard case .postgres(let state) = failure.code else { return failure }
        let views = HuntingQuery.views.map(\.name).joined(separator: ", ")
        switch state {
        case "57014":
            return StoreError(.timedOut, "the query ran past its time limit and was stopped; narrow it (a time range, a machine, LIMIT) or give it more time (--timeout, or timeout over the API)")
        case "42501":
            return StoreError(.invalidValue, "not allowed: \(failure.message). Queries may only SELECT from the views \(views), with field()")
        case "25006":
            return StoreError(.invalidValue, "only SELECT queries run here; hunting never changes the database")
        default:
            return StoreError(.invalidValue, "the query failed: \(failure.message)")
        }
    }
}
