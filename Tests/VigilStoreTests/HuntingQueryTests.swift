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
        // No column is read, so SQLite's authorizer never sees these tables: the opened b-trees are checked.
        "SELECT count(*) FROM api_keys", "SELECT 1 AS x FROM main.audit_log", "SELECT (SELECT count(*) FROM main.subscriptions) AS n",
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
        #expect(error?.code == .timedOut && error?.description.contains("ran past its time limit") == true, "\(String(describing: error))")
        // A hang guard, not a speed target: the query must come back at all.
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func rowsStopAtTheCap() throws {
        let workspace = try Self.demoStore()
        let result = try Self.run("SELECT id FROM events", in: workspace, rowCap: 10)
        #expect(result.rows.count == 10)
        #expect(result.truncated)
        let wide = try HuntingQuery(path: workspace.databasePath).run("SELECT raw FROM events", timeout: .seconds(30), rowCap: 10_000, byteCap: 1_000)
        #expect(wide.truncated && wide.rows.count < 20, "wide rows stop at the byte cap: \(wide.rows.count)")
        let all = try Self.run("SELECT id FROM machines", in: workspace, rowCap: 10)
        #expect(!all.truncated && all.rows.count == 5)
    }

    /// The demo store plus real SSH logins and failures (syslog) and Sysmon for Linux events
    /// from ../shared/corpus: what the README's hunting queries run on.
    static func huntingStore() throws -> TemporaryDirectory {
        let workspace = try demoStore()
        let store = try Store(path: workspace.databasePath)
        let logs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus/logs").standardized
        let sources: [(SourceFormat, [String])] = [
            (.syslog, ["syslog_auth/crowdsec/sshd-success-logs_sshd-success-logs.log", "syslog_auth/crowdsec/ssh-bf_ssh-bf.log"]),
            (.sysmonLinux, ["sysmon_linux/elastic-integrations_sysmon_linux_sample_first44.log"]),
        ]
        for (format, files) in sources {
            try store.setIntegration(format.rawValue, enabled: true, actor: "test")
            _ = try ImportPipeline(store: store, ruleSet: .builtin()).importFiles(
                files.map { logs.appendingPathComponent($0).path }, format: .fixed(format), integration: format.rawValue, actor: "test")
        }
        return workspace
    }

    /// The README's hunting queries, each run against `huntingStore()`.
    @Test(arguments: HuntingQueryTests.readmeQueries)
    func theREADMEQueriesRun(_ query: (name: String, sql: String, minimumRows: Int)) throws {
        let result = try Self.run(query.sql, in: try Self.huntingStore())
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
        ("processes run by a web server account", "SELECT hostname, time, field(fields, 'User') AS user, field(fields, 'CommandLine') AS command FROM events WHERE category = 'process_creation' AND field(fields, 'User') IN ('www-data', 'nginx', 'apache', 'httpd') ORDER BY time DESC", 1),
        ("logins from addresses new in the last 7 days", "SELECT hostname, user, source, min(time) AS first_seen FROM (SELECT hostname, time, time_us, field(fields, 'User') AS user, field(fields, 'SourceIp') AS source FROM events WHERE field(fields, 'message') LIKE 'Accepted %') GROUP BY hostname, user, source HAVING min(time_us) >= (SELECT max(time_us) FROM events WHERE field(fields, 'message') LIKE 'Accepted %') - 7 * 86400000000 ORDER BY first_seen DESC", 2),
        ("password guessing by source address", "SELECT field(fields, 'SourceIp') AS source, count(*) AS failures, count(DISTINCT field(fields, 'User')) AS users FROM events WHERE field(fields, 'message') LIKE 'Failed password%' OR field(fields, 'message') LIKE 'Invalid user%' GROUP BY source HAVING failures >= 5 ORDER BY failures DESC", 1),
        ("shells redirected to the network", "SELECT hostname, time, field(fields, 'CommandLine') AS command FROM events WHERE field(fields, 'CommandLine') LIKE '%/dev/tcp/%' OR field(fields, 'CommandLine') LIKE '%nc -e %' OR field(fields, 'CommandLine') LIKE '%mkfifo%'", 2),
        ("rarest outbound destinations", "SELECT field(fields, 'DestinationIp') AS destination, field(fields, 'DestinationPort') AS port, count(DISTINCT hostname) AS machines, count(*) AS connections FROM events WHERE category = 'network_connection' GROUP BY destination, port ORDER BY machines, connections LIMIT 20", 5),
        ("the cloud metadata service reached", "SELECT hostname, time, field(fields, 'Image') AS image FROM events WHERE field(fields, 'DestinationIp') = '169.254.169.254' ORDER BY time DESC", 1),
        ("machines silent for a day", "SELECT hostname, os_platform, last_seen FROM machines WHERE last_seen < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day') ORDER BY last_seen", 1),
        ("open alerts, worst and oldest first", "SELECT id, title, hostname, severity, first_event_time FROM alerts WHERE status = 'new' ORDER BY severity_rank DESC, first_event_time LIMIT 50", 5),
        ("antivirus findings by spread", "SELECT field(fields, 'Signature') AS signature, count(DISTINCT hostname) AS machines, group_concat(DISTINCT hostname) AS hosts FROM events WHERE category = 'antivirus' GROUP BY signature ORDER BY machines DESC", 2),
        ("what ran in the 5 minutes before each alert", "SELECT d.title, hit.hostname, e.time, field(e.fields, 'CommandLine') AS command FROM detections d JOIN events hit ON hit.id = d.event_id JOIN events e ON e.hostname = hit.hostname AND e.time_us BETWEEN hit.time_us - 300000000 AND hit.time_us WHERE e.category = 'process_creation' ORDER BY e.time_us DESC LIMIT 50", 2),
        ("busiest hours per machine", "SELECT hostname, strftime('%Y-%m-%dT%H:00Z', time) AS hour, count(*) AS events FROM events GROUP BY hostname, hour ORDER BY events DESC LIMIT 20", 5),
    ]
}
