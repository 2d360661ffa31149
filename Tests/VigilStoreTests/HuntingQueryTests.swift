import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

/// `vigil query`: SQL over the hunting views answers hunters' questions, and nothing else of the
/// database can be read, written or run, however the query is written. Serialized: each test
/// builds a store synchronously, and many at once would hold every cooperative thread that the
/// in-process servers of other suites need.
@Suite(.serialized, .runsOn(.busy)) struct HuntingQueryTests {
    /// A store holding the demo's five machines and their alerts (the built-in rules: quick to
    /// compile, as every test builds its own store).
    static func demoStore() throws -> TemporaryDirectory {
        let workspace = TemporaryDirectory()
        let store = try Store(path: workspace.databasePath)
        try store.setIntegration("json", enabled: true, actor: "test")
        _ = try store.createAPIKey(name: "secret-holder", hash: Array(repeating: 7, count: 32), actor: "test")
        try store.createSubscription(SubscriptionSpec(name: "siem", transport: .webhook, target: "https://x.example/hook"),
                                     secret: "do-not-leak", actor: "test")
        let path = try workspace.write("demo.ndjson", DemoData.lines(endingAt: Timestamp.now()).joined(separator: "\n"))
        _ = try ImportPipeline(store: store, ruleSet: .builtin()).importFiles([path], format: .fixed(.json), integration: "json", actor: "test")
        return workspace
    }

    static func run(_ sql: String, in workspace: TemporaryDirectory, timeout: Duration = .seconds(30),
                    rowCap: Int = 10_000) throws(StoreError) -> HuntingQuery.Result {
        try HuntingQuery(path: workspace.databasePath).run(sql, timeout: timeout, rowCap: rowCap)
    }

    @Test func theViewsAnswerWhatTheStoreHolds() throws {
        let workspace = try Self.demoStore()
        let store = try Store(path: workspace.databasePath)
        let perHost = try Self.run("SELECT hostname, count(*) AS n FROM events GROUP BY hostname ORDER BY hostname", in: workspace)
        #expect(perHost.columns == ["hostname", "n"])
        let machines = try store.machines()
        #expect(perHost.rows.map { $0[0] } == machines.map { JSONValue.string($0.hostname) }.sorted { "\($0)" < "\($1)" })
        #expect(perHost.rows.map { $0[1] }.reduce(0.0) { if case .number(let n) = $1 { $0 + n } else { $0 } } == 229)
        let stored = try store.alerts(AlertFilter()).count
        let alerts = try Self.run("SELECT id, severity, hostname FROM alerts ORDER BY id", in: workspace)
        #expect(stored > 5 && alerts.rows.count == stored)
        #expect(alerts.rows.allSatisfy { if case .string(let level) = $0[1] { Severity(name: level) != nil } else { false } })
        // Every alert cites its events.
        let cited = try Self.run("SELECT count(DISTINCT alert_id) FROM detections", in: workspace)
        #expect(cited.rows == [[.number(Double(stored))]])
        // field() reads an event field by name.
        let commands = try Self.run("SELECT field(fields, 'CommandLine') FROM events WHERE field(fields, 'CommandLine') LIKE '%/%'", in: workspace)
        #expect(commands.rows.count > 10)
        #expect(commands.rows.allSatisfy { if case .string(let text) = $0[0] { text.contains("/") } else { false } })
        let extracted = try Self.run(#"SELECT count(*) FROM events WHERE json_extract(fields, '$."CommandLine"') LIKE '%/%'"#, in: workspace)
        #expect(extracted.rows == [[.number(Double(commands.rows.count))]])
    }

    @Test(arguments: [
        "DELETE FROM events", "UPDATE alerts SET status = 'resolved'", "INSERT INTO machines (hostname) VALUES ('x')",
        "CREATE TABLE loot AS SELECT 1", "DROP VIEW events", "ATTACH '/tmp/other.sqlite' AS other", "PRAGMA table_info(api_keys)",
        "PRAGMA query_only = OFF", "SELECT load_extension('/tmp/evil.so')", "SELECT * FROM api_keys", "SELECT name FROM main.api_keys",
        "SELECT secret FROM main.subscriptions", "SELECT count(*) FROM main.access_tokens", "SELECT * FROM sqlite_master",
        "SELECT sql FROM sqlite_temp_master", "SELECT * FROM main.events", "SELECT secret FROM (SELECT * FROM main.subscriptions)",
        "SELECT 1; DELETE FROM events", "VACUUM INTO '/tmp/copy.sqlite'", "SELECT writefile('/tmp/x', 'y')",
    ])
    func anythingButSelectingFromTheViewsIsRefusedPlainly(_ sql: String) throws {
        let workspace = try Self.demoStore()
        do {
            let result = try Self.run(sql, in: workspace)
            Issue.record("ran: \(sql) → \(result.rows.prefix(3))")
        } catch {
            let message = error.description
            #expect(["not allowed", "only SELECT", "one statement", "no such function", "cannot modify"].contains { message.contains($0) }, "\(sql): \(message)")
            #expect(!message.contains("do-not-leak"))
        }
        // Nothing changed.
        let store = try Store(path: workspace.databasePath)
        #expect(try store.alerts(AlertFilter()).count > 5)
        #expect(try store.events(EventFilter(limit: 1000)).count == 229)
        #expect(try store.subscription(named: "siem")?.secret == "do-not-leak")
    }

    @Test(arguments: [
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        "SELECT count(*) FROM events a, events b, events c, events d",
    ])
    func runawayQueriesStopAtTheTimeLimit(_ sql: String) throws {
        let workspace = try Self.demoStore()
        let started = ContinuousClock.now
        let error = #expect(throws: StoreError.self) { try Self.run(sql, in: workspace, timeout: .milliseconds(300)) }
        #expect(error?.description.contains("ran past its time limit") == true, "\(String(describing: error))")
        // A hang guard, not a speed target: the query must come back at all.
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func rowsStopAtTheCap() throws {
        let workspace = try Self.demoStore()
        let result = try Self.run("SELECT id FROM events", in: workspace, rowCap: 10)
        #expect(result.rows.count == 10)
        #expect(result.truncated)
        let all = try Self.run("SELECT id FROM machines", in: workspace, rowCap: 10)
        #expect(!all.truncated && all.rows.count == 5)
    }

    /// The README's hunting queries, each run against the demo store.
    @Test(arguments: HuntingQueryTests.readmeQueries)
    func theREADMEQueriesRun(_ query: (name: String, sql: String, minimumRows: Int)) throws {
        let result = try Self.run(query.sql, in: try Self.demoStore())
        #expect(result.rows.count >= query.minimumRows, "\(query.name): \(result.rows.count) rows")
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md"), encoding: .utf8)
        #expect(readme.contains(query.sql), "\(query.name) is not in the README as tested")
    }

    static let readmeQueries: [(name: String, sql: String, minimumRows: Int)] = [
        ("events per machine", "SELECT hostname, os_platform, count(*) AS events FROM events GROUP BY hostname ORDER BY events DESC", 5),
        ("rare parent-child pairs", "SELECT field(fields, 'ParentImage') AS parent, field(fields, 'Image') AS child, count(*) AS n FROM events WHERE category = 'process_creation' GROUP BY parent, child ORDER BY n LIMIT 20", 1),
        ("first-seen binaries per machine", "SELECT hostname, field(fields, 'Image') AS image, min(time) AS first_seen FROM events WHERE field(fields, 'Image') IS NOT NULL GROUP BY hostname, image ORDER BY first_seen DESC LIMIT 50", 1),
        ("machines by alert severity", "SELECT hostname, severity, count(*) AS alerts FROM alerts GROUP BY hostname, severity ORDER BY severity_rank DESC, alerts DESC", 1),
        ("the events behind each alert", "SELECT d.alert_id, d.title, e.time, e.raw FROM detections d JOIN events e ON e.id = d.event_id ORDER BY d.alert_id LIMIT 100", 5),
    ]
}
