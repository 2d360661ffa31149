import Foundation
import Testing
import VigilTestSupport
import VigilTooling
@testable import VigilStore
import VigilDetection
import VigilModel
import VigilPipeline


func sampleEvent(host: String = "web-01", raw: String = "{}", seconds: Double = 1_800_000_000) -> Event {
    Event(time: Timestamp(seconds: seconds), machine: MachineIdentity(hostname: host, platform: .linux, osVersion: "Ubuntu 22.04"),
          sourceFormat: "json", integration: "json", logSource: LogSource(product: "linux", category: "process_creation"),
          fields: [EventField(FieldKey("CommandLine"), "ls")], raw: raw, line: 1)
}

@Suite(.runsOn(.busy)) struct MigrationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    @Test func embeddedSchemaMatchesTheSchemaFolder() throws {
        let folder = Self.root.appendingPathComponent("schema")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == Migrations.embedded.map(\.name), "run scripts/embed-resources.sh")
        for (name, text) in Migrations.embedded {
            let onDisk = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            #expect(onDisk == text + "\n", "\(name) drifted from schema/; run scripts/embed-resources.sh")
        }
    }

    @Test func aNewDatabaseIsMigratedAndEachMigrationRecorded() throws {
        let database = TemporaryDirectory()
        let store = try Store(path: database.databasePath)
        #expect(try store.schemaVersion() == Migrations.latestVersion)
        let recorded = try store.connection.statement("SELECT version FROM schema_migrations ORDER BY version").rows { Int($0.int("version")) }
        #expect(recorded == Migrations.all.map(\.version))
        let journal = try store.connection.statement("PRAGMA journal_mode").firstRow { $0.text("journal_mode") }
        #expect(journal == "wal")
        let view = try store.connection.statement("SELECT COUNT(*) AS views FROM sqlite_master WHERE type = 'view' AND name = 'alert_view'").firstRow { $0.int("views") }
        #expect(view == 1)
    }

    @Test func anOlderDatabaseIsMigratedOnOpen() throws {
        let database = TemporaryDirectory()
        do {
            let connection = try Connection(path: database.databasePath)
            try connection.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
            let first = Migrations.all[0]
            try connection.execute(first.sql)
            try connection.statement("INSERT INTO schema_migrations VALUES (?, ?, 0)").bind(first.version, first.name).run()
        }
        let store = try Store(path: database.databasePath)
        #expect(try store.schemaVersion() == Migrations.latestVersion)
    }

    @Test func aNewerDatabaseIsRefused() throws {
        let database = TemporaryDirectory()
        do {
            let store = try Store(path: database.databasePath)
            try store.connection.statement("INSERT INTO schema_migrations VALUES (?, 'future.sql', 0)").bind(Migrations.latestVersion + 1).run()
        }
        #expect {
            try Store(path: database.databasePath)
        } throws: { error in
            guard let error = error as? StoreError, case .newerSchema = error.code else { return false }
            return error.message.contains("newer") && error.message.contains("Upgrade vigil")
        }
    }

    @Test func reopeningKeepsTheData() throws {
        let database = TemporaryDirectory()
        do {
            let store = try Store(path: database.databasePath)
            _ = try BatchCommitter(store: store).write([BatchItem(event: sampleEvent(), detections: [])], rejected: [], recordsRead: 0, importID: nil)
        }
        let reopened = try Store(path: database.databasePath)
        #expect(try reopened.count(.events) == 1)
        #expect(try reopened.machines().map(\.hostname) == ["web-01"])
    }
}

/// The commit stage's writes, alike on both stores (`TestBackend.available`).
@Suite(.runsOn(.busy)) struct WriterTests {
    /// A committer on `store`'s own writer, with no correlation rules.
    func committer(_ store: TestStore, dedupeWindow: Duration = .seconds(3600)) throws -> BatchCommitter {
        BatchCommitter(writer: try store.writer(), correlator: Correlator(ruleSet: RuleSet(rules: []), dedupeWindow: dedupeWindow))
    }

    /// Makes every alert insert fail (a detection for a rule whose id violates NOT NULL cannot
    /// happen): the alerts table is renamed away, so a batch fails after its events were
    /// written. `restoreAlerts` undoes it.
    func breakAlerts(_ store: TestStore, _ backend: TestBackend) throws {
        if backend == .sqlite { try store.execute("DROP VIEW alert_view") }
        try store.execute("ALTER TABLE alerts RENAME TO alerts_gone")
    }

    func restoreAlerts(_ store: TestStore) throws { try store.execute("ALTER TABLE alerts_gone RENAME TO alerts") }

    static let failingDetection = Detection(rule: RuleInfo(id: "r", title: "t", severity: .high), matchedFields: [])

    @Test(arguments: TestBackend.available) func aFailingBatchRollsBackWhole(on backend: TestBackend) throws {
        let database = TemporaryDirectory()
        let store = try TestStore(backend, in: database)
        let writer = try committer(store)
        try breakAlerts(store, backend)
        let detection = Self.failingDetection
        let items = [
            BatchItem(event: sampleEvent(raw: "a"), detections: []),
            BatchItem(event: sampleEvent(host: "db-01", raw: "b"), detections: [detection]),
        ]
        #expect(throws: (any Error).self) { try writer.write(items, rejected: [], recordsRead: 0, importID: nil) }
        #expect(try store.count(.events) == 0)
        #expect(try store.count(.machines) == 0)
    }

    /// The writer remembers the machines it met (`KnownMachines`); a machine it stored in a
    /// batch that rolled back is not in the store, and the next batch must store it again.
    @Test(arguments: TestBackend.available) func aMachineOfARolledBackBatchIsStoredByTheNextOne(on backend: TestBackend) throws {
        let database = TemporaryDirectory()
        let store = try TestStore(backend, in: database)
        let writer = try committer(store)
        try breakAlerts(store, backend)
        #expect(throws: (any Error).self) {
            try writer.write([BatchItem(event: sampleEvent(host: "db-01", raw: "a"), detections: [Self.failingDetection])],
                             rejected: [], recordsRead: 0, importID: nil)
        }
        try restoreAlerts(store)
        // Another machine takes the id the rolled-back one had.
        _ = try writer.write([BatchItem(event: sampleEvent(host: "web-01", raw: "b"), detections: [])], rejected: [], recordsRead: 0, importID: nil)
        let outcome = try writer.write([BatchItem(event: sampleEvent(host: "db-01", raw: "c"), detections: [])],
                                       rejected: [], recordsRead: 0, importID: nil)
        #expect(outcome.stored == 1)
        let machines = try store.store.machines().sorted { $0.hostname < $1.hostname }
        #expect(machines.map(\.hostname) == ["db-01", "web-01"])
        #expect(machines.map(\.eventCount) == [1, 1])
        #expect(Set(machines.map(\.id)).count == 2)
    }

    /// A machine the writer met in an earlier batch is updated after the batch's events, not
    /// upserted before them: the rows come out as a new writer per batch leaves them.
    @Test(arguments: TestBackend.available) func aMachineMetInAnEarlierBatchEndsAsANewWriterLeavesIt(on backend: TestBackend) throws {
        func event(_ host: String, _ platform: OSPlatform, _ version: String?, _ seconds: Double, _ integration: String = "json") -> BatchItem {
            var event = sampleEvent(host: host, raw: "\(host) \(seconds)", seconds: seconds)
            event.machine = MachineIdentity(hostname: host, platform: platform, osVersion: version)
            event.integration = integration
            return BatchItem(event: event, detections: [])
        }
        let batches = [
            [event("web-01", .unknown, nil, 1000), event("db-01", .linux, "22.04", 1000)],
            [event("WEB-01", .linux, "24.04", 500), event("web-01", .linux, nil, 2000, "auditd")],
            [event("web-01", .macos, "14.5", 3000), event("db-01", .linux, "22.04", 900), event("DB-01", .android, nil, 4000)],
        ]
        func machines(oneWriter: Bool) throws -> [String] {
            let database = TemporaryDirectory()
            let store = try TestStore(backend, in: database)
            var writer = try committer(store)
            for batch in batches {
                if !oneWriter { writer = try committer(store) }
                _ = try writer.write(batch, rejected: [], recordsRead: 0, importID: nil)
            }
            return try store.store.machines().sorted { $0.hostname < $1.hostname }.map { machine in
                "\(machine.hostname) \(machine.osPlatform) \(machine.osVersion ?? "-") \(machine.firstSeen.microseconds) "
                    + "\(machine.lastSeen.microseconds) \(machine.lastIntegration ?? "-") \(machine.eventCount) \(machine.review ?? "-")"
            }
        }
        let kept = try machines(oneWriter: true)
        #expect(kept == (try machines(oneWriter: false)))
        #expect(kept.first?.hasPrefix("db-01 linux 22.04 900000000 4000000000 json 3 android via json") == true, "\(kept)")
        #expect(kept.last?.hasPrefix("web-01 linux 24.04 500000000 3000000000 json 4 ") == true, "\(kept)")
        #expect(kept.last?.contains("macos 14.5 via json") == true, "\(kept)")
    }

    /// Host names and versions are pushed data: what the writer remembers of them is bounded in
    /// bytes as well as in count, and it starts over past either.
    @Test func knownMachinesForgetPastTheirByteBound() {
        var known = KnownMachines()
        known.learn(spelling: "web-01", id: 1, platform: "linux", version: "22.04")
        known.learn(spelling: String(repeating: "h", count: KnownMachines.byteCapacity - 16), id: 2, platform: "unknown", version: nil)
        #expect(known.id(of: "web-01") == 1)
        #expect(known.settledIdentity(of: 1)?.version == "22.04")
        known.learn(spelling: "db-01", id: 3, platform: "linux", version: String(repeating: "9", count: 64))
        #expect(known.id(of: "web-01") == nil, "past the byte bound everything is forgotten")
        #expect(known.settledIdentity(of: 1) == nil)
        #expect(known.id(of: "db-01") == 3)
    }

    /// A fold sets only the times it moves (`writePendingFolds`): earlier, later and inside the
    /// alert's span, in one batch and one by one, the alert ends spanning them all.
    @Test(arguments: TestBackend.available) func foldsWidenTheAlertWhicheverTimeTheyMove(on backend: TestBackend) throws {
        let detection = Detection(rule: RuleInfo(id: "r1", title: "Test rule", severity: .medium), matchedFields: [])
        let items = [1000.0, 400, 1600, 800, 1600].enumerated().map { index, seconds in
            BatchItem(event: sampleEvent(raw: "e\(index)", seconds: seconds), detections: [detection])
        }
        for batches in [[items], items.map { [$0] }] {
            let database = TemporaryDirectory()
            let test = try TestStore(backend, in: database)
            let writer = try committer(test)
            for batch in batches { _ = try writer.write(batch, rejected: [], recordsRead: 0, importID: nil) }
            let alerts = try test.store.alerts(AlertFilter())
            #expect(alerts.count == 1)
            #expect(alerts.first?.eventCount == 5)
            #expect(alerts.first?.firstEventTime == Timestamp(seconds: 400))
            #expect(alerts.first?.lastEventTime == Timestamp(seconds: 1600))
        }
    }

    /// The writer holds a batch's folds until its commit, yet decides each detection as if the
    /// folds before it were written: each scenario ends as it does with one event per batch.
    /// First, the third event comes before the first: the alert as stored (the first event
    /// alone) would take it, but with the second event folded in, the alert would span 4,000 s,
    /// past the 3,600 s window, so the event opens an alert of its own. Second, two alerts of
    /// one rule and machine are stored; the next batch folds into the earlier one, then brings
    /// an event both could take: the later alert ranks first, though the earlier one has folds
    /// pending, so the event joins the later one. Third, many alerts of one identity.
    @Test(arguments: TestBackend.available) func aBatchDecidesEachDetectionWithTheFoldsBeforeIt(on backend: TestBackend) throws {
        let detection = Detection(rule: RuleInfo(id: "r1", title: "Test rule", severity: .medium), matchedFields: [])
        func outcome(_ batches: [[Double]]) throws -> (alerts: [String], incidents: [String]) {
            let database = TemporaryDirectory()
            let test = try TestStore(backend, in: database)
            let writer = try committer(test)
            var index = 0
            for batch in batches {
                let items = batch.map { seconds in
                    index += 1
                    return BatchItem(event: sampleEvent(raw: "e\(index)", seconds: seconds), detections: [detection])
                }
                _ = try writer.write(items, rejected: [], recordsRead: 0, importID: nil)
            }
            let alerts = try test.store.alerts(AlertFilter()).map { alert in
                "\(alert.eventCount) \(alert.firstEventTime.microseconds / 1_000_000)-\(alert.lastEventTime.microseconds / 1_000_000)"
            }
            let incidents = try test.store.incidents(status: nil, minimumSeverity: nil, limit: 100).map {
                "\($0.firstEventTime.microseconds / 1_000_000)-\($0.lastEventTime.microseconds / 1_000_000)"
            }
            return (alerts.sorted(), incidents.sorted())
        }
        let scenarios: [(batches: [[Double]], alerts: [String])] = [
            ([[1000, 4000, 0]], ["1 0-0", "2 1000-4000"]),
            ([[1000, 5000], [1100, 3000]], ["2 1000-1100", "2 3000-5000"]),
            // Ten alerts of one identity take folds in one batch: past eight pending, the
            // writer writes them rather than leave more out of its queries by id.
            ([(0..<10).map { Double($0 * 10_000) }, (1...2).flatMap { step in (0..<10).map { Double($0 * 10_000 + step) } }],
             (0..<10).map { "3 \($0 * 10_000)-\($0 * 10_000 + 2)" }.sorted()),
        ]
        for scenario in scenarios {
            let grouped = try outcome(scenario.batches)
            let oneByOne = try outcome(scenario.batches.flatMap { $0.map { [$0] } })
            #expect(grouped.alerts == scenario.alerts, "\(scenario.batches): \(grouped.alerts)")
            #expect(grouped.alerts == oneByOne.alerts && grouped.incidents == oneByOne.incidents,
                    "\(scenario.batches): \(grouped) in batches, \(oneByOne) one by one")
        }
    }

    /// Folds held for a batch that rolls back are forgotten with it: the next batch's fold
    /// counts only its own event.
    @Test func foldsOfARolledBackBatchAreForgotten() throws {
        let database = TemporaryDirectory()
        let test = try TestStore(.sqlite, in: database)
        let writer = try committer(test)
        let detection = Detection(rule: RuleInfo(id: "r1", title: "Test rule", severity: .medium), matchedFields: [])
        func item(_ raw: String, _ seconds: Double) -> BatchItem {
            BatchItem(event: sampleEvent(raw: raw, seconds: seconds), detections: [detection])
        }
        _ = try writer.write([item("e1", 1000)], rejected: [], recordsRead: 0, importID: nil)
        // The fold is held, then linking its event fails, after it and before the commit.
        try test.execute("CREATE TRIGGER refuse_links BEFORE INSERT ON alert_events BEGIN SELECT RAISE(ABORT, 'refused'); END")
        #expect(throws: (any Error).self) { try writer.write([item("e2", 1500)], rejected: [], recordsRead: 0, importID: nil) }
        try test.execute("DROP TRIGGER refuse_links")
        _ = try writer.write([item("e3", 1200)], rejected: [], recordsRead: 0, importID: nil)
        let alert = try #require(try test.store.alerts(AlertFilter()).first)
        #expect(alert.eventCount == 2)
        #expect(alert.lastEventTime == Timestamp(seconds: 1200))
    }

    @Test(arguments: TestBackend.available) func duplicatesAreSkippedAndRepeatsFoldIntoOneAlert(on backend: TestBackend) throws {
        let database = TemporaryDirectory()
        let test = try TestStore(backend, in: database)
        let store = test.store
        let writer = try committer(test)
        let rule = RuleInfo(id: "r1", title: "Test rule", severity: .medium, author: "Someone")
        let detection = Detection(rule: rule, matchedFields: [EventField(FieldKey("CommandLine"), "ls")])
        func item(_ key: Int64, _ seconds: Double) -> BatchItem {
            BatchItem(event: sampleEvent(raw: "e\(key)", seconds: seconds), detections: [detection])
        }
        var outcome = try writer.write([item(1, 1000), item(2, 1600), item(1, 1000)], rejected: [], recordsRead: 0, importID: nil)
        #expect(outcome.stored == 2)
        #expect(outcome.duplicates == 1)
        #expect(outcome.alertsRaised == 1)
        #expect(outcome.alertsUpdated == 1)
        outcome = try writer.write([item(3, 1000 + 7200)], rejected: [], recordsRead: 0, importID: nil)
        #expect(outcome.alertsRaised == 1)
        let alerts = try store.alerts(AlertFilter())
        #expect(alerts.count == 2)
        let first = try #require(alerts.last)
        #expect(first.eventCount == 2)
        #expect(first.firstEventTime == Timestamp(seconds: 1000))
        #expect(first.lastEventTime == Timestamp(seconds: 1600))
        #expect(first.author == "Someone")
        #expect(try test.count(.alertEvents) == 3)
    }

    @Test(arguments: TestBackend.available) func alertFiltersAreApplied(on backend: TestBackend) throws {
        let database = TemporaryDirectory()
        let test = try TestStore(backend, in: database)
        let store = test.store
        let writer = try committer(test)
        let high = Detection(rule: RuleInfo(id: "h", title: "High one", severity: .high), matchedFields: [])
        let low = Detection(rule: RuleInfo(id: "l", title: "Low one", severity: .low), matchedFields: [])
        _ = try writer.write([
            BatchItem(event: sampleEvent(host: "a", raw: "1", seconds: 1000), detections: [high]),
            BatchItem(event: sampleEvent(host: "b", raw: "2", seconds: 5000), detections: [low]),
        ], rejected: [], recordsRead: 0, importID: nil)
        #expect(try store.alerts(AlertFilter(minimumSeverity: .medium)).map(\.title) == ["High one"])
        #expect(try store.alerts(AlertFilter(machine: "B")).map(\.title) == ["Low one"])
        #expect(try store.alerts(AlertFilter(since: Timestamp(seconds: 2000))).map(\.title) == ["Low one"])
        #expect(try store.alerts(AlertFilter(until: Timestamp(seconds: 2000))).map(\.title) == ["High one"])
        #expect(try store.alerts(AlertFilter(rule: "h")).map(\.title) == ["High one"])
        #expect(try store.alerts(AlertFilter(platform: .macos)).isEmpty)
        #expect(try store.alerts(AlertFilter(limit: 1)).count == 1)
        // A filter value is bound, never spliced into SQL.
        #expect(try store.alerts(AlertFilter(machine: "a' OR '1'='1")).isEmpty)
    }

    @Test(arguments: TestBackend.available) func turningAnIntegrationOffIsAudited(on backend: TestBackend) throws {
        let database = TemporaryDirectory()
        let test = try TestStore(backend, in: database, integrationsOn: false)
        let store = test.store
        try store.setIntegration("clamav", enabled: true, actor: "tester")
        try store.setIntegration("clamav", enabled: false, actor: "tester")
        #expect(try store.integration(named: "clamav")?.enabled == false)
        #expect(try test.count(.auditLog) == 2)
        #expect(throws: (any Error).self) { try store.setIntegration("nope", enabled: true, actor: "tester") }
    }
}
