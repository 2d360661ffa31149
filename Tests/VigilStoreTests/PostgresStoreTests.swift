import Foundation
import PostgresNIO
import Synchronization
import Testing
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
@testable import VigilPostgres
import VigilTestSupport
import VigilTooling
@testable import VigilStore

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
            JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = 'public'::regnamespace AND NOT k.relispartition
            WHERE c.table_schema = 'public'
            """) {
            postgresColumns[try row.decode(String.self, column: "relation"), default: []].append(try row.decode(String.self, column: "name"))
        }
        for relation in postgresColumns.keys { postgresColumns[relation]?.sort() }
        // The detections queue serves several nodes (one SQLite node keeps its windows in its
        // writer); alert_counts is summed from appended changes, so that writers share no hot row.
        #expect(postgresColumns.removeValue(forKey: "detection_queue") != nil)
        #expect(postgresColumns.removeValue(forKey: "alert_count_changes") != nil)
        #expect(sqliteColumns.count > 20)
        #expect(postgresColumns == sqliteColumns)
    }

    /// The same events imported into SQLite and into PostgreSQL give the same events and the
    /// same alerts (rule, machine, event count), and every query answers alike; importing them
    /// again adds nothing to either.
    @Test func importAndQueriesGiveWhatSQLiteGives() throws {
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
        // A file with a record that is not JSON between two that are: a rejected record each.
        let mixed = try directory.write("mixed.ndjson", #"{"hostname":"a","n":1}"# + "\nnot json\n" + #"{"hostname":"b","n":2}"#)
        try sqlite.setIntegration("json", enabled: true, actor: "test")
        try postgres.setIntegration("json", enabled: true, actor: "test")
        sqliteOutcome += try sqliteImport.importFiles([mixed], format: .fixed(.json), integration: "json", actor: "test").outcome
        postgresOutcome += try postgresImport.importFiles([mixed], format: .fixed(.json), integration: "json", actor: "test").outcome
        #expect(postgresOutcome == sqliteOutcome)
        #expect(sqliteOutcome.stored > 3_000 && sqliteOutcome.duplicates > 3_000 && sqliteOutcome.rejected == 1)
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
        try expectSameAnswers(sqlite, postgres)
        #expect(try postgres.check().problems == [])
        // The check can fail: one alert's count change lost.
        try postgres.session.execute("DELETE FROM alert_count_changes WHERE ctid = (SELECT ctid FROM alert_count_changes LIMIT 1)")
        #expect(try postgres.check().problems.count == 1)
    }

    /// Every `AlertQueries` method answers alike on both stores, ids aside (each store numbers
    /// its own rows): the query SQL is shared, so this guards the dialect's differences.
    func expectSameAnswers(_ sqlite: Store, _ postgres: PostgresStore, sourceLocation: SourceLocation = #_sourceLocation) throws {
        /// `query`'s answer on both stores, as comparable text; each must give something to compare.
        func same(_ label: String, ordered: Bool = false, _ query: (any AlertQueries) throws -> [String]) throws {
            let expected = try query(sqlite), actual = try query(postgres)
            #expect(!expected.isEmpty, "\(label): nothing to compare", sourceLocation: sourceLocation)
            #expect(ordered ? actual == expected : actual.sorted() == expected.sorted(), "\(label)", sourceLocation: sourceLocation)
        }
        func line(_ alert: AlertRow) -> String {
            "\(alert.ruleID) \(alert.hostname.lowercased()) \(alert.eventCount) \(alert.severity) \(alert.status) \(alert.osPlatform) \(alert.techniques) \(alert.lastEventTime.microseconds)"
        }
        func line(_ event: EventRow) -> String { "\(event.time.microseconds) \(event.hostname.lowercased()) \(event.sourceFormat) \(event.raw)" }
        let anyAlert = try #require(try sqlite.alerts(AlertFilter(limit: 1)).first)
        var filters = [AlertFilter(limit: 1000), AlertFilter(minimumSeverity: .high, limit: 1000),
                       AlertFilter(machine: anyAlert.hostname.uppercased(), limit: 1000), AlertFilter(platform: .linux, limit: 1000)]
        filters.append(AlertFilter(rule: anyAlert.ruleID, sort: .firstEvent, limit: 1000))
        filters[filters.count - 1].ascending = true
        filters.append(AlertFilter(limit: 1000))
        filters[filters.count - 1].text = String(anyAlert.title.split(separator: " ").first ?? "")
        if let technique = anyAlert.techniques.first {
            filters.append(AlertFilter(limit: 1000))
            filters[filters.count - 1].technique = technique
        }
        for (index, filter) in filters.enumerated() {
            try same("alerts #\(index)") { try $0.alerts(filter).map(line) }
            try same("alert summary #\(index)", ordered: true) { try $0.alertSummary(filter).map { "\($0.severity) \($0.platform) \($0.count)" } }
            try same("counts by severity #\(index)") { try $0.alertCountsBySeverity(filter, cap: 50).map { "\($0.key) \($0.value)" } }
        }
        func firstAlert(_ store: any AlertQueries) throws -> AlertRow {
            try #require(try store.alerts(AlertFilter(machine: anyAlert.hostname, rule: anyAlert.ruleID, limit: 1)).first)
        }
        try same("one alert") { [line(try #require(try $0.alert(id: try firstAlert($0).id)))] }
        try same("an alert's events", ordered: true) { try $0.alertEvents(id: try firstAlert($0).id, limit: 1000).map(line) }
        try same("no later alerts, no comments") { store in
            let id = try firstAlert(store).id
            return ["\(try store.laterAlertIDs(following: id)) \(try store.comments(alertID: id, incidentID: nil).count)"]
        }
        try same("machines", ordered: true) { try $0.machines().map { "\($0.hostname) \($0.osPlatform) \($0.eventCount) \($0.alertCount) \($0.active) \(String(describing: $0.supported)) \($0.review ?? "-")" } }
        try same("machines after the first, two") { store in
            try store.machines(after: try store.machines().first?.hostname, limit: 2).map(\.hostname)
        }
        try same("one machine") { store in [try #require(try store.machine(id: try firstAlert(store).machineID)).hostname] }
        try same("a machine's events") { try $0.events(EventFilter(machine: anyAlert.hostname.uppercased(), limit: 10_000)).map(line) }
        try same("events in a window") { try $0.events(EventFilter(since: anyAlert.firstEventTime, until: anyAlert.lastEventTime, limit: 10_000)).map(line) }
        try same("a timeline") { store in
            try #require(try store.timeline(machineID: try firstAlert(store).machineID, EventFilter(limit: 10_000)))
                .map { "\(line($0.event)) \($0.alerts.map(\.title))" }
        }
        #expect(try postgres.timeline(machineID: 999_999, EventFilter()) == nil, sourceLocation: sourceLocation)
        let now = Timestamp(microseconds: anyAlert.lastEventTime.microseconds + 86_400_000_000)
        try same("trend", ordered: true) { try $0.alertTrend(days: 3_650, now: now).map { "\($0.day) \($0.severity) \($0.count)" } }
        try same("totals") { store in
            let totals = try store.alertTotals()
            return totals.bySeverity.map { "\($0.key) \($0.value)" } + totals.byPlatform.map { "\($0.platform) \($0.count)" }
                + totals.byIntegration.map { "\($0.integration) \($0.count)" }
        }
        try same("imports", ordered: true) { try $0.imports(limit: 100).map { "\($0.source) \($0.format) \($0.recordsRead) \($0.eventsStored) \($0.rejected) \($0.duplicates) \($0.alertsRaised) \($0.status)" } }
        try same("rejected records", ordered: true) { try $0.rejectedRecords(importID: nil, limit: 1_000).map { "\($0.record.line) \($0.record.reason)" } }
        try same("the EICAR alert") { store in
            [try store.detectionTestAlert(since: Timestamp(microseconds: 0), machine: nil).map(line) ?? "none",
             try store.detectionTestAlert(since: Timestamp(microseconds: 0), machine: "no-such-host").map(line) ?? "none"]
        }
        try same("incidents") { try $0.incidents(status: nil, minimumSeverity: nil, limit: 100).map { "\($0.title) \($0.severity) \($0.alertCount) \($0.machines.sorted())" } + ["-"] }
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

    /// Two nodes resolving the two alerts of one incident at the same moment leave it resolved:
    /// each change locks its rows before it reads them, so the second reads the first's change.
    @Test func concurrentTriageKeepsTheIncidentFollowingItsAlerts() throws {
        let database = try PostgresTestDatabase()
        let postgres = try PostgresStore(url: database.url)
        try postgres.setIntegration("json", enabled: true, actor: "t")
        let directory = TemporaryDirectory()
        let file = try directory.write("av.ndjson", ["Unix.Trojan.Mirai-1", "Other"].enumerated().map { index, signature in
            #"{"@timestamp":"2026-03-03T10:00:0\#(index)Z","hostname":"web-01","os_platform":"linux","logsource":{"category":"antivirus"},"Signature":"\#(signature)"}"#
        }.joined(separator: "\n"))
        _ = try ImportPipeline(target: postgres, writer: try PostgresWriter(url: database.url), ruleSet: .builtin())
            .importFiles([file], format: .fixed(.json), integration: "json", actor: "t")
        let ids = try postgres.alerts(AlertFilter()).map(\.id)
        #expect(ids.count == 2)
        let incident = try #require(try postgres.incidents(status: nil, minimumSeverity: nil, limit: 10).first)
        #expect(incident.alertCount == 2)
        // Safety: each node is used by one iteration of concurrentPerform only.
        nonisolated(unsafe) let nodes = [try PostgresStore(url: database.url), try PostgresStore(url: database.url)]
        let failures = Mutex<[String]>([])
        var stale = 0
        for _ in 0..<30 {
            try postgres.updateAlerts(ids: ids, AlertUpdate(status: "new"), actor: "t")
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                do { _ = try nodes[index].updateAlerts(ids: [ids[index]], AlertUpdate(status: "resolved"), actor: "node \(index)") } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            if try postgres.incident(id: incident.id)?.status != "resolved" { stale += 1 }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(stale == 0, "rounds that left the incident behind its alerts")
    }

    /// An outbox entry never becomes visible below an id a reader has already passed: a
    /// transaction that appended first but commits last gets its id at commit, after the other's.
    @Test func outboxIdsBecomeVisibleInCommitOrder() throws {
        let database = try PostgresTestDatabase()
        let reader = try PostgresStore(url: database.url)
        let (slow, fast) = (try PostgresStore(url: database.url), try PostgresStore(url: database.url))
        var cursor: Int64 = 0
        try slow.inTransaction {
            try slow.appendOutbox(.alertUpdated, alertID: 1, changes: "slow")
            try fast.inTransaction { try fast.appendOutbox(.alertUpdated, alertID: 2, changes: "fast") }
            let seen = try reader.outbox(after: 0, limit: 10)
            #expect(seen.map(\.changes) == ["fast"])
            // A delivery worker has now sent the fast entry and stands at its id.
            cursor = try #require(seen.last?.id)
        }
        #expect(try reader.outbox(after: cursor, limit: 10).map(\.changes) == ["slow"], "the entry committed last comes after the cursor")
        let all = try reader.outbox(after: 0, limit: 10)
        #expect(all.map(\.changes) == ["fast", "slow"])
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

    /// 30 failed SSH logins from one address within five minutes, stored by two ingest nodes
    /// (each half) that queue them for the correlator.
    static func queueBruteForce(on database: PostgresTestDatabase, ruleSet: RuleSet) throws {
        let attempts = (0..<30).map { attempt in
            #"{"@timestamp":"2026-12-01T10:0\#(attempt / 10):\#(String(format: "%02d", attempt % 10 * 5))Z","host":{"name":"bastion-01"},"logsource":{"product":"linux","service":"sshd"},"message":"Failed password for root from 203.0.113.9 port \#(40_000 + attempt) ssh2","SourceIp":"203.0.113.9"}"#
        }
        let directory = TemporaryDirectory()
        for node in 0..<2 {
            let file = try directory.write("node-\(node).ndjson", attempts.enumerated().filter { $0.offset % 2 == node }.map(\.element).joined(separator: "\n"))
            let writer = try PostgresWriter(url: database.url)
            let committer = BatchCommitter(writer: writer, correlator: Correlator(ruleSet: ruleSet), correlationQueue: writer)
            let reader = try BatchReader(source: try ByteSource(path: file), format: .json,
                                         context: ParserContext(integration: "json", defaultHostname: "x"), ruleSet: ruleSet)
            try reader.forEachBatch(readingAhead: false) { batch in
                _ = try committer.write(batch.items, rejected: batch.rejected, recordsRead: batch.recordsRead, importID: nil)
            }
        }
    }

    static let bruteForceRule = "6d7e8f9a-0b1c-4d3e-8f4a-b5c6d7e8f9a0"

    /// Ingest nodes queue what feeds correlation rules; one correlator node at a time applies
    /// it. When the holder's connection ends, another node takes the role, restores the saved
    /// windows and goes on: the brute force fires once, with all its events.
    @Test func correlatorRolePassesOnAndCorrelatesExactlyOnce() throws {
        let database = try PostgresTestDatabase()
        let postgres = try PostgresStore(url: database.url)
        try postgres.setIntegration("json", enabled: true, actor: "t")
        let ruleSet = RuleSet.builtin()
        try Self.queueBruteForce(on: database, ruleSet: ruleSet)
        func count(_ sql: String) throws -> Int64 { try postgres.session.query(sql).first?.decode(Int64.self, column: "n") ?? -1 }
        #expect(try count("SELECT COUNT(*) AS n FROM detection_queue") == 30)
        // The ingest nodes raised the failed logins' own alert, not the correlation.
        #expect(try count("SELECT COUNT(*) AS n FROM alerts WHERE rule_id = '\(Self.bruteForceRule)'") == 0)

        var first: CorrelatorNode? = CorrelatorNode(writer: try PostgresWriter(url: database.url), ruleSet: ruleSet)
        let second = CorrelatorNode(writer: try PostgresWriter(url: database.url), ruleSet: ruleSet)
        // The first holder sees five attempts, too few to fire; the windows it saved carry them over.
        #expect(try first?.step(limit: 5) == 5)
        #expect(try second.step() == nil, "the role is held")
        first = nil  // its connection ends, as a killed node's does
        #expect(try second.step(limit: 100) == 25)
        #expect(try second.step() == 0)
        #expect(try count("SELECT COUNT(*) AS n FROM detection_queue") == 0)
        let bruteForce = try postgres.alerts(AlertFilter(rule: Self.bruteForceRule))
        #expect(bruteForce.map(\.eventCount) == [30])
        #expect(bruteForce.first?.hostname == "bastion-01")
    }

    /// A holder whose connection was cut (its lock went with it) stops acting as the correlator
    /// even though its session connects again: it does not take detections beside the new holder.
    @Test func aHolderThatLostItsConnectionStopsCorrelating() throws {
        let database = try PostgresTestDatabase()
        let postgres = try PostgresStore(url: database.url)
        try postgres.setIntegration("json", enabled: true, actor: "t")
        let ruleSet = RuleSet.builtin()
        try Self.queueBruteForce(on: database, ruleSet: ruleSet)
        let first = CorrelatorNode(writer: try PostgresWriter(url: database.url), ruleSet: ruleSet)
        #expect(try first.step(limit: 5) == 5)
        // Only this database's correlator lock holder: the tests beside this one hold advisory locks on the same server
        // (migrations, partitions), and cutting theirs failed them (toggleIsSharedByEveryNode, twice in CI).
        let cut = try postgres.session.query("""
            SELECT pg_terminate_backend(pid, 5000) AS cut FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND objsubid = 1 AND (classid::bigint << 32) | objid::bigint = $1
            """, [PostgresStore.correlatorLock])
        #expect(try cut.map { try $0.decode(Bool.self, column: "cut") } == [true], "one holder, cut")
        #expect(try postgres.acquireCorrelator(wait: false), "the holder's lock went with its connection")
        try postgres.session.execute("SELECT pg_advisory_unlock($1)", [PostgresStore.correlatorLock])
        let second = CorrelatorNode(writer: try PostgresWriter(url: database.url), ruleSet: ruleSet)
        #expect(try second.step(limit: 10) == 10)
        #expect(throws: StoreError.self) { try first.step() }
        #expect(try first.step() == nil, "the role is the second's now")
        #expect(try second.step() == 15)
        #expect(try postgres.alerts(AlertFilter(rule: Self.bruteForceRule)).map(\.eventCount) == [30])
    }

    /// `vigil purge` drops a day partition whole when no alert cites its events, deletes row by
    /// row where one does, and the counts still agree (`check`).
    @Test func purgeDropsWholeDaysAndKeepsEvidence() throws {
        let database = try PostgresTestDatabase()
        let postgres = try PostgresStore(url: database.url)
        let writer = try PostgresWriter(url: database.url)
        let committer = BatchCommitter(writer: writer, correlator: Correlator(ruleSet: RuleSet(rules: [])))
        let rule = try #require(RuleSet.builtin().rules.first).info
        let now = Timestamp.now()
        func item(daysAgo: Int64, host: String, cited: Bool) -> BatchItem {
            let event = Event(time: Timestamp(microseconds: now.microseconds - daysAgo * 86_400_000_000), machine: MachineIdentity(hostname: host),
                              sourceFormat: "json", integration: "json", logSource: LogSource(product: "linux"),
                              fields: [EventField(FieldKey("n"), "\(daysAgo)\(host)")], raw: "\(daysAgo) \(host) \(cited)", line: 1)
            return BatchItem(event: event, detections: cited ? [Detection(rule: rule, matchedFields: [])] : [])
        }
        let items = [item(daysAgo: 10, host: "a", cited: false), item(daysAgo: 10, host: "b", cited: false),
                     item(daysAgo: 8, host: "a", cited: true), item(daysAgo: 8, host: "a", cited: false), item(daysAgo: 0, host: "a", cited: false)]
        _ = try committer.write(items, rejected: [], recordsRead: items.count, importID: nil)
        let outcome = try postgres.purgeEvents(olderThan: now - .seconds(5 * 86_400), includingAlertEvidence: false, actor: "t")
        // Day 10's partition goes whole (with the empty days before it); day 8's stays for its cited event.
        func partitionExists(daysAgo: Int64) throws -> Bool {
            try !postgres.session.query("SELECT 1 FROM pg_class WHERE relname = $1", ["events_d\(now.microseconds / 86_400_000_000 - daysAgo)"]).isEmpty
        }
        #expect(outcome.partitionsDropped >= 1)
        #expect(try !partitionExists(daysAgo: 10))
        #expect(try partitionExists(daysAgo: 8))
        #expect(outcome.eventsDeleted == 3)
        #expect(outcome.evidenceKept == 1)
        #expect(try postgres.session.query("SELECT raw FROM events ORDER BY time").map { try $0.decode(String.self, column: "raw") } == ["8 a true", "0 a false"])
        #expect(try postgres.check().problems == [])
        #expect(try postgres.audit(action: "events.purge", target: nil, since: nil, limit: 5).count == 1)
        let all = try postgres.purgeEvents(olderThan: now + .seconds(86_400), includingAlertEvidence: true, actor: "t")
        #expect(all.eventsDeleted == 2)
        #expect(try postgres.check().problems == [])
        #expect(try postgres.session.query("SELECT SUM(event_count)::int8 AS n FROM machines").first?.decode(Int64.self, column: "n") == 0)
        // The check can fail: a machine counting an event it does not have.
        try postgres.session.execute("UPDATE machines SET event_count = 1 WHERE id = (SELECT MIN(id) FROM machines)")
        #expect(try postgres.check().problems.count == 1)
    }

    /// Host names that fold differently in Swift and in PostgreSQL's lower() (non-ASCII, under
    /// the C locale the test cluster uses) still land, each event on a machine.
    @Test func hostNamesThatFoldDifferentlyLand() throws {
        let database = try PostgresTestDatabase()
        let postgres = try PostgresStore(url: database.url)
        let writer = try PostgresWriter(url: database.url)
        let committer = BatchCommitter(writer: writer, correlator: Correlator(ruleSet: RuleSet(rules: [])))
        let hosts = ["Ünïcode-Host", "ünïcode-host", "ÜNÏCODE-HOST", "İstanbul", "istanbul", "PLAIN", "plain"]
        let items = hosts.enumerated().map { index, host in
            BatchItem(event: Event(time: Timestamp(microseconds: 1_700_000_000_000_000 + Int64(index)), machine: MachineIdentity(hostname: host),
                                   sourceFormat: "json", integration: "json", logSource: LogSource(), fields: [], raw: "event \(index)", line: index + 1),
                      detections: [])
        }
        let outcome = try committer.write(items, rejected: [], recordsRead: items.count, importID: nil)
        #expect(outcome.stored == hosts.count)
        #expect(try postgres.session.query("SELECT SUM(event_count)::int8 AS n FROM machines").first?.decode(Int64.self, column: "n") == Int64(hosts.count))
        #expect(try postgres.check().problems == [])
    }

    /// A URL that names no server fails with what to check, after retrying for the timeout.
    /// TLS as `sslmode` asks, against the test cluster's certificate (VIGIL_TEST_POSTGRES_CA):
    /// encrypted unless disabled, verified when asked, and a certificate from an authority
    /// not trusted is refused at once with what to check.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VIGIL_TEST_POSTGRES_CA"] != nil, "VIGIL_TEST_POSTGRES_CA names no certificate"))
    func connectionsUseTLSAsTheURLAsks() throws {
        let authority = try #require(ProcessInfo.processInfo.environment["VIGIL_TEST_POSTGRES_CA"])
        let database = try PostgresTestDatabase()
        func encrypted(_ parameters: String, host: String? = nil) throws -> Bool {
            var text = database.url.description
            if let host { text = text.replacingOccurrences(of: "@\(database.url.host):", with: "@\(host):") }
            let session = try PostgresSession(url: try PostgresURL(text + parameters), connectTimeout: .seconds(2))
            return try session.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.decode(Bool.self, column: "ssl") == true
        }
        #expect(try encrypted(""), "sslmode=prefer, the default, takes the TLS the server offers")
        #expect(try encrypted("?sslmode=require"))
        #expect(try !encrypted("?sslmode=disable"))
        #expect(try encrypted("?sslmode=verify-ca&sslrootcert=\(authority)"))
        #expect(try encrypted("?sslmode=verify-full&sslrootcert=\(authority)", host: "localhost"))

        // Another authority's certificate is not trusted.
        let scratch = TemporaryDirectory()
        let other = scratch.path("other-ca.pem")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", scratch.path("other.key"), "-out", other,
                             "-days", "1", "-subj", "/CN=localhost"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        let refused = #expect(throws: StoreError.self) { try encrypted("?sslmode=verify-full&sslrootcert=\(other)", host: "localhost") }
        #expect(refused?.code == .invalidValue)
        #expect(refused?.message.contains("TLS handshake") == true, "\(String(describing: refused))")
        #expect(refused?.message.contains("1 attempt") == true, "refused at once, not retried: \(String(describing: refused))")
    }

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

    @Test func readsTLSParameters() throws {
        let verified = try PostgresURL("postgresql://u@db.internal/d?sslmode=verify-full&sslrootcert=/etc/ca%20certs/ca.pem")
        #expect(verified.tls == .verifyFull && verified.rootCertificate == "/etc/ca certs/ca.pem")
        #expect(try PostgresURL(verified.description) == verified, "the description reads back as the same URL")
        let awkward = try PostgresURL("postgresql://u@db.internal/d?sslmode=verify-ca&sslrootcert=/ca/a%26b%25c%23.pem")
        #expect(awkward.rootCertificate == "/ca/a&b%c#.pem")
        #expect(try PostgresURL(awkward.description) == awkward)
        #expect(try PostgresURL("postgresql://u@h/d").tls == .prefer, "libpq's default")
        #expect(try PostgresURL("postgresql://u@h/d?sslmode=disable").description == "postgresql://u@h:5432/d?sslmode=disable")
    }

    @Test func refusesWhatIsNotAStoreURLAndHidesThePassword() {
        for text in ["postgresql://u@h", "postgresql://u:pw@h:99999/d", "postgresql:///d", "mysql://u@h/d", "postgresql://u@h/a/b",
                     "postgresql://u:pw@h/d?sslmode=maybe", "postgresql://u:pw@h/d?ssl=true", "postgresql://u:pw@h/d?sslrootcert=",
                     "postgresql://u:pw@10.0.0.5/d?sslmode=verify-full", "postgresql://u:pw@[::1]/d?sslmode=verify-full"] {
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
