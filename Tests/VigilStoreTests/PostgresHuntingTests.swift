import Foundation
import Testing
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilPostgres
import VigilStore
import VigilTestSupport
import VigilTooling

/// Hunting SQL on PostgreSQL runs as a role of its own that reads the hunting views only: it
/// answers what SQLite's hunting answers for the same import, and refuses what SQLite's refuses.
@Suite(.enabled(if: PostgresTestDatabase.available, "VIGIL_TEST_POSTGRES names no PostgreSQL server"))
struct PostgresHuntingTests {
    /// Thirty failed SSH logins (the brute force) and an EICAR verdict, imported into `store`.
    static func importSample(_ store: TestStore, in directory: TemporaryDirectory) throws {
        var lines = (0..<30).map { attempt in
            #"{"@timestamp":"2026-12-01T10:0\#(attempt / 10):\#(String(format: "%02d", attempt % 10 * 5))Z","host":{"name":"bastion-01","os":{"platform":"linux"}},"logsource":{"product":"linux","service":"sshd"},"message":"Failed password for root from 203.0.113.9 port \#(40_000 + attempt) ssh2","SourceIp":"203.0.113.9"}"#
        }
        lines.append(#"{"@timestamp":"2026-12-01T10:09:00Z","host":{"name":"web-01","os":{"platform":"linux"}},"logsource":{"category":"antivirus"},"Signature":"Eicar-Signature","Path":"/tmp/eicar.com"}"#)
        let file = try directory.write("sample-\(UUID().uuidString).ndjson", lines.joined(separator: "\n"))
        _ = try store.pipeline(ruleSet: .builtin()).importFiles([file], format: .fixed(.json), integration: "json", actor: "test")
    }

    @Test func queriesAnswerAsOnSQLite() async throws {
        let directory = TemporaryDirectory()
        let sqlite = try TestStore(.sqlite, in: directory)
        let postgres = try TestStore(.postgresql, in: directory)
        try Self.importSample(sqlite, in: directory)
        try Self.importSample(postgres, in: directory)
        let database = try #require(postgres.postgresDatabase)
        let hunter = try database.loginRole()
        try #require(postgres.postgresStore).grantHunting(to: hunter.name, actor: "test")
        let engine = PostgresHuntingQuery(url: hunter.url)
        let path = try #require(sqlite.sqlite?.path)
        for sql in [
            "SELECT hostname, os_platform, integration, source_format, product, service, time, time_us, line, field(fields, 'SourceIp') AS ip FROM events ORDER BY time_us, line",
            "SELECT rule_id, title, severity, severity_rank, status, hostname, event_count, first_event_time, last_event_time FROM alerts ORDER BY rule_id",
            "SELECT hostname, os_platform, first_seen, last_seen, last_integration, event_count FROM machines ORDER BY hostname",
            "SELECT title, severity, status, first_event_time FROM incidents ORDER BY title",
            "SELECT rule_id, hostname, time FROM detections ORDER BY time, rule_id",
            "SELECT hostname, count(*) AS n FROM events GROUP BY hostname ORDER BY n DESC -- busiest first",
            "SELECT id FROM events WHERE hostname = 'nowhere';",
        ] {
            let expected = try HuntingQuery(path: path).run(sql, timeout: .seconds(10), rowCap: 1000)
            let answered = try await engine.run(sql, timeout: .seconds(10), rowCap: 1000, byteCap: 1 << 20)
            #expect(answered.columns == expected.columns, "\(sql)")
            #expect(answered.rows == expected.rows, "\(sql)")
            #expect(!answered.truncated)
        }
        let capped = try await engine.run("SELECT id FROM events ORDER BY id", timeout: .seconds(10), rowCap: 5, byteCap: 1 << 20)
        #expect(capped.rows.count == 5 && capped.truncated)
        let wide = try await engine.run("SELECT repeat('x', 1000000) AS wide FROM generate_series(1, 100)", timeout: .seconds(30), rowCap: 1000,
                                        byteCap: 4 << 20)
        #expect(wide.truncated && wide.rows.count <= 6, "\(wide.rows.count) rows of 1 MB under a 4 MB cap")
    }

    /// The error `engine` answers `sql` with, or nil when it runs.
    static func refusal(of sql: String, by engine: some HuntingEngine, timeout: Duration) async -> StoreError? {
        do {
            _ = try await engine.run(sql, timeout: timeout, rowCap: 100, byteCap: 1 << 20)
        } catch {
            return error as? StoreError ?? StoreError(.unavailable, "\(error)")
        }
        return nil
    }

    @Test func theRoleReadsTheViewsAndNothingElse() async throws {
        let directory = TemporaryDirectory()
        let postgres = try TestStore(.postgresql, in: directory)
        try Self.importSample(postgres, in: directory)
        let database = try #require(postgres.postgresDatabase)
        let store = try #require(postgres.postgresStore)
        let hunter = try database.loginRole()
        let engine = PostgresHuntingQuery(url: hunter.url)
        await #expect(throws: StoreError.self, "not granted yet") { try await engine.run("SELECT 1", timeout: .seconds(5), rowCap: 10, byteCap: 1 << 20) }
        try store.grantHunting(to: hunter.name, actor: "admin")
        #expect(try store.audit(action: "hunting", target: nil, since: nil, limit: 10).map(\.target) == ["role:\(hunter.name)"])
        #expect(throws: StoreError.self) { try store.grantHunting(to: "x\"; DROP TABLE events; --", actor: "admin") }

        func refusal(_ sql: String, timeout: Duration = .seconds(10)) async -> StoreError? {
            await Self.refusal(of: sql, by: engine, timeout: timeout)
        }
        for sql in [
            "SELECT name, key_hash FROM public.api_keys",
            "SELECT count(*) FROM public.events",
            "SELECT secret FROM public.subscriptions",
            "SELECT set_config('role', '\(database.url.user)', false)",
            "SELECT query_to_xml('SELECT * FROM public.api_keys', true, true, '')",
            "SELECT pg_read_file('/etc/passwd')",
        ] {
            let error = await refusal(sql)
            #expect(error?.code == .invalidValue && error?.message.hasPrefix("not allowed") == true, "\(sql): \(String(describing: error))")
        }
        for sql in ["DELETE FROM events", "SELECT 1; DELETE FROM events", "WITH gone AS (DELETE FROM events RETURNING id) SELECT * FROM gone",
                    "SELECT nextval('public.events_id_seq')"] {
            let error = await refusal(sql)
            #expect(error?.code == .invalidValue, "\(sql): \(String(describing: error))")
        }
        #expect(try postgres.count(.events) == 31, "nothing was deleted")
        let slow = await refusal("SELECT pg_sleep(30)", timeout: .milliseconds(300))
        #expect(slow?.code == .timedOut, "\(String(describing: slow))")
        // The time limit holds even when the query turns it off for itself.
        let unbounded = await refusal("SELECT set_config('statement_timeout', '0', false), pg_sleep(30)", timeout: .milliseconds(300))
        #expect(unbounded?.code == .timedOut, "\(String(describing: unbounded))")

        // Vigil's own role could read everything: it is refused as a hunting role.
        let owner = await Self.refusal(of: "SELECT 1", by: PostgresHuntingQuery(url: database.url), timeout: .seconds(5))
        #expect(owner?.message.contains("can read more than the hunting views") == true, "\(String(describing: owner))")
        // So is a role that may read a single column of one of Vigil's tables.
        try store.session.execute("GRANT SELECT (name) ON public.api_keys TO \(hunter.name)")
        let column = await Self.refusal(of: "SELECT 1", by: engine, timeout: .seconds(5))
        #expect(column?.message.contains("it reads Vigil's tables") == true, "\(String(describing: column))")
    }
}
