import Foundation
import PostgresNIO
import Synchronization
import Testing
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilPostgres
import VigilTestSupport
import VigilTooling
@testable import VigilStore

/// A fresh database on the PostgreSQL server that `VIGIL_TEST_POSTGRES` names (`.ci/run`
/// starts one: scripts/postgres-test-server.sh), dropped when the test ends.
final class PostgresTestDatabase {
    static let serverURL = ProcessInfo.processInfo.environment["VIGIL_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static var available: Bool { serverURL != nil }

    let url: PostgresURL
    private let admin: PostgresSession

    init() throws {
        let server = try PostgresURL(try #require(Self.serverURL, "VIGIL_TEST_POSTGRES names no server"))
        admin = try PostgresSession(url: server)
        var url = server
        url.database = "vigil_test_\(UInt64.random(in: 0..<UInt64.max))"
        try admin.execute("CREATE DATABASE \(url.database)")
        self.url = url
    }

    deinit {
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)")
    }
}

@Suite(.runsOn(.busy), .enabled(if: PostgresTestDatabase.available, "VIGIL_TEST_POSTGRES names no PostgreSQL server"))
struct PostgresStoreTests {
    /// Both schemas expose the same tables, views and columns.
    @Test func schemaMatchesSQLite() throws {
        let directory = TemporaryDirectory()
        let sqlite = try Store(path: directory.databasePath)
        var sqliteColumns: [String: [String]] = [:]
        let relations = try sqlite.connection.statement("""
            SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'
            """).rows { $0.text("name") }
        for relation in relations {
            sqliteColumns[relation] = try sqlite.connection.statement("SELECT name FROM pragma_table_info(?)").bind(relation)
                .rows { $0.text("name") }.sorted()
        }
        let database = try PostgresTestDatabase()
        let postgres = try PostgresStore(url: database.url)
        var postgresColumns: [String: [String]] = [:]
        for row in try postgres.session.query("""
            SELECT c.table_name::text AS relation, c.column_name::text AS name FROM information_schema.columns c
            JOIN pg_class k ON k.relname = c.table_name AND NOT k.relispartition
            WHERE c.table_schema = 'public'
            """) {
            postgresColumns[try row.decode(String.self, column: "relation"), default: []].append(try row.decode(String.self, column: "name"))
        }
        for relation in postgresColumns.keys { postgresColumns[relation]?.sort() }
        #expect(sqliteColumns.count > 20)
        #expect(postgresColumns == sqliteColumns)
    }

    /// The same events imported into SQLite and into PostgreSQL give the same events and the
    /// same alerts (rule, machine, event count); importing them again adds nothing to either.
    @Test func importGivesWhatSQLiteGives() throws {
        let directory = TemporaryDirectory()
        let files = try BenchWorkload.write(events: 4_000, to: directory.url)
        let ruleSet = RuleSet.defaultRules()
        let sqlite = try Store(path: directory.databasePath)
        let database = try PostgresTestDatabase()
        let postgres = try PostgresStore(url: database.url)
        let postgresImport = ImportPipeline(target: postgres, writer: try PostgresWriter(url: database.url), ruleSet: ruleSet)
        let sqliteImport = ImportPipeline(store: sqlite, ruleSet: ruleSet)
        var sqliteOutcome = BatchOutcome(), postgresOutcome = BatchOutcome()
        for (format, path) in files {
            let integration = try #require(IntegrationCatalogue.builtin.first { $0.formats.contains(format.rawValue) }).name
            try sqlite.setIntegration(integration, enabled: true, actor: "test")
            try postgres.setIntegration(integration, enabled: true, actor: "test")
            for _ in 0..<2 {
                sqliteOutcome += try sqliteImport.importFiles([path], format: .fixed(format), integration: integration, actor: "test").outcome
                postgresOutcome += try postgresImport.importFiles([path], format: .fixed(format), integration: integration, actor: "test").outcome
            }
        }
        #expect(postgresOutcome == sqliteOutcome)
        #expect(sqliteOutcome.stored > 3_000 && sqliteOutcome.duplicates > 3_000)
        #expect(try postgres.session.query("SELECT COUNT(*) AS n FROM events").first?.decode(Int64.self, column: "n")
            == (try sqlite.connection.statement("SELECT COUNT(*) FROM events").firstInteger()))
        let sqliteAlerts = try sqlite.connection.statement("""
            SELECT a.rule_id || ' ' || lower(m.hostname) || ' ' || a.event_count AS line FROM alerts a JOIN machines m ON m.id = a.machine_id
            """).rows { $0.text("line") }.sorted()
        let postgresAlerts = try postgres.session.query("""
            SELECT a.rule_id || ' ' || lower(m.hostname) || ' ' || a.event_count AS line FROM alerts a JOIN machines m ON m.id = a.machine_id
            """).map { try $0.decode(String.self, column: "line") }.sorted()
        #expect(sqliteAlerts.count >= 10)
        #expect(postgresAlerts == sqliteAlerts)
        let filter = AlertFilter(minimumSeverity: .medium, limit: 1000)
        #expect(try postgres.alerts(filter).map(\.id).count == (try sqlite.alerts(filter).count))
    }

    /// Two writers (two nodes) storing the same batch at once store each event once and open
    /// each alert once: the machine rows they lock in the same order make them take turns.
    @Test func concurrentWritersStoreEachEventOnce() throws {
        let directory = TemporaryDirectory()
        let file = try #require(try BenchWorkload.write(events: 3_000, to: directory.url, formats: [.json]).first)
        let database = try PostgresTestDatabase()
        let postgres = try PostgresStore(url: database.url)
        try postgres.setIntegration("json", enabled: true, actor: "test")
        let url = database.url
        let outcomes = Mutex<[BatchOutcome]>([])
        let failures = Mutex<[String]>([])
        let threads = (0..<2).map { _ in
            Thread {
                do {
                    let node = try PostgresStore(url: url)
                    let outcome = try ImportPipeline(target: node, writer: try PostgresWriter(url: url), ruleSet: .builtin())
                        .importFiles([file.path], format: .fixed(.json), integration: "json", actor: "test").outcome
                    outcomes.withLock { $0.append(outcome) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        threads.forEach { $0.start() }
        while outcomes.withLock({ $0.count }) + failures.withLock({ $0.count }) < 2 { Thread.sleep(forTimeInterval: 0.05) }
        #expect(failures.withLock { $0 } == [])
        let both = outcomes.withLock { $0 }
        let stored = both.map(\.stored).reduce(0, +), duplicates = both.map(\.duplicates).reduce(0, +)
        let events = try postgres.session.query("SELECT COUNT(*) AS n FROM events").first?.decode(Int64.self, column: "n") ?? -1
        #expect(Int64(stored) == events)
        #expect(stored == duplicates)
        let twins = try postgres.session.query("""
            SELECT COUNT(*) AS n FROM (SELECT rule_id, machine_id, dedupe_key FROM alerts WHERE status = 'new'
            GROUP BY rule_id, machine_id, dedupe_key, first_event_time HAVING COUNT(*) > 1) t
            """).first?.decode(Int64.self, column: "n")
        #expect(twins == 0)
        #expect(try postgres.alerts(AlertFilter(limit: 1000)).count > 0)
    }

    /// Turning an integration off on one node refuses the next push on another at once, and
    /// revokes its tokens; on again, it needs a new token.
    @Test func toggleIsSharedByEveryNode() throws {
        let database = try PostgresTestDatabase()
        let first = try PostgresStore(url: database.url)
        let second = try PostgresWriter(url: database.url)
        try first.setIntegration("clamav", enabled: true, actor: "t")
        let token = try first.createToken(integration: "clamav", hash: [7, 0, 7], expiresAt: .now() + .seconds(60), machines: [], actor: "t")
        #expect(try first.storedToken(hash: [7, 0, 7])?.id == token)
        #expect(try second.transaction { try second.tokenStillValid(token) })
        try first.setIntegration("clamav", enabled: false, actor: "t")
        #expect(try !second.transaction { try second.tokenStillValid(token) })
        try first.setIntegration("clamav", enabled: true, actor: "t")
        #expect(try !second.transaction { try second.tokenStillValid(token) })
        #expect(try first.audit(action: "integration", target: nil, since: nil, limit: 10).map(\.action)
            == ["integration.on", "integration.off", "integration.on"])
        #expect(try first.tokens(integration: "clamav").first?.revokedAt != nil)
    }

    /// Text PostgreSQL cannot hold (NUL) is stored with U+2400 in its place, and the batch around it lands.
    @Test func nulBytesDoNotFailABatch() throws {
        let database = try PostgresTestDatabase()
        let postgres = try PostgresStore(url: database.url)
        try postgres.setIntegration("json", enabled: true, actor: "t")
        let writer = try PostgresWriter(url: database.url)
        let committer = BatchCommitter(writer: writer, correlator: Correlator(ruleSet: RuleSet(rules: [])))
        let events = ["a\u{0}b", "plain"].enumerated().map { index, raw in
            Event(time: Timestamp(microseconds: 1_700_000_000_000_000 + Int64(index)), machine: MachineIdentity(hostname: "h\u{0}st"),
                  sourceFormat: "json", integration: "json", logSource: LogSource(product: "linux"),
                  fields: [EventField(FieldKey("k\u{0}"), "v\u{0}")], raw: raw, line: index + 1)
        }
        let outcome = try committer.write(events.map { BatchItem(event: $0, detections: []) }, rejected: [], recordsRead: 2, importID: nil)
        #expect(outcome.stored == 2)
        let raws = try postgres.session.query("SELECT raw FROM events ORDER BY time").map { try $0.decode(String.self, column: "raw") }
        #expect(raws == ["a\u{2400}b", "plain"])
        let again = try committer.write(events.map { BatchItem(event: $0, detections: []) }, rejected: [], recordsRead: 2, importID: nil)
        #expect(again.duplicates == 2)
    }

    /// A URL that names no server fails with what to check, after retrying for the timeout.
    @Test func unreachableServerSaysWhatToCheck() throws {
        let error = #expect(throws: StoreError.self) {
            try PostgresStore(url: PostgresURL("postgresql://vigil@127.0.0.1:1/none"), connectTimeout: .milliseconds(600))
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("check that the server runs") == true)
        #expect(error?.message.contains("attempts") == true)
    }
}

@Suite struct PostgresURLTests {
    @Test func readsEveryPart() throws {
        let url = try PostgresURL("postgresql://ann:p%40ss@db.internal:6543/vigil")
        #expect(url == PostgresURL.fixture(user: "ann", password: "p@ss", host: "db.internal", port: 6543, database: "vigil"))
        #expect(url.description == "postgresql://ann@db.internal:6543/vigil")
        let defaults = try PostgresURL("postgres://db/vigil", environment: ["USER": "bob", "PGPASSWORD": "secret"])
        #expect(defaults.user == "bob" && defaults.password == "secret" && defaults.port == 5432)
        #expect(try PostgresURL("postgresql://u@[::1]:5433/d").host == "::1")
    }

    @Test func refusesWhatIsNotAStoreURLAndHidesThePassword() {
        for text in ["postgresql://u@h", "postgresql://u:pw@h:99999/d", "postgresql:///d", "mysql://u@h/d", "postgresql://u@h/a/b"] {
            let error = #expect(throws: StoreError.self, "\(text)") { try PostgresURL(text) }
            #expect(error?.message.contains("pw") == false)
        }
    }
}

extension PostgresURL {
    static func fixture(user: String, password: String?, host: String, port: Int, database: String) -> PostgresURL {
        var url = try! PostgresURL("postgresql://x@y/z")
        (url.user, url.password, url.host, url.port, url.database) = (user, password, host, port, database)
        return url
    }
}

extension PostgresRandomAccessRow {
    func decode<T: PostgresDecodable>(_ type: T.Type, column: String) throws -> T { try self[column].decode(T.self) }
}
