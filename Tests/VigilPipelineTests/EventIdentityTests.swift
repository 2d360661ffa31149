import Crypto
import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
@testable import VigilStore

/// A JSON event on machine `h` at `seconds` whose raw record is `raw`.
private func jsonEvent(raw: String, seconds: Int64) -> Event {
    Event(time: Timestamp(microseconds: seconds * 1_000_000), machine: MachineIdentity(hostname: "h", platform: .linux),
          sourceFormat: "json", integration: "json", logSource: LogSource(category: "process_creation"), fields: [], raw: raw, line: 1)
}

/// An event is its record on its machine through its integration: the same log from two
/// machines is two sets of events, and re-importing it for one machine adds nothing. The
/// storage-key tests run on both stores (`TestBackend.available`).
@Suite(.runsOn(.busy)) struct EventIdentityTests {
    static let scanLog = """
        /tmp/eicar.com.txt: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND
        /tmp/x.bin: Unix.Trojan.Mirai-1 FOUND
        Start Date: 2026:11:27 20:23:21

        """

    /// Imports the scan log for `host` through a new pipeline (as a new `vigil import` would).
    func importScan(through pipeline: ImportPipeline, _ workspace: TemporaryDirectory, host: String) throws -> ImportSummary {
        let path = try workspace.write("scan.log", Self.scanLog)
        return try pipeline
            .importFiles([path], format: .fixed(.clamav), integration: "clamav", actor: "test", defaultHostname: host)
    }

    @Test(arguments: TestBackend.available) func theSameLogFromTwoMachinesIsStoredForEachAndAlertsOnEach(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let store = try TestStore(backend, in: workspace)
        #expect(try importScan(through: store.pipeline(ruleSet: .builtin()), workspace, host: "web-01").outcome.stored == 2)
        let second = try importScan(through: store.pipeline(ruleSet: .builtin()), workspace, host: "web-02")
        #expect(second.outcome.stored == 2)
        #expect(second.outcome.duplicates == 0)
        #expect(try importScan(through: store.pipeline(ruleSet: .builtin()), workspace, host: "WEB-02").outcome.duplicates == 2, "host names compare case-insensitively, as machines do")
        #expect(try store.count(.events) == 4)
        let pairs = try store.store.alerts(AlertFilter()).map { "\($0.hostname) \($0.title)" }.sorted()
        #expect(pairs == ["web-01 Antivirus detection: Unix.Trojan.Mirai-1", "web-01 EICAR test file detected",
                          "web-02 Antivirus detection: Unix.Trojan.Mirai-1", "web-02 EICAR test file detected"])
    }

    @Test func theSameRecordThroughTwoIntegrationsIsTwoEvents() throws {
        let event = Event(time: Timestamp(seconds: 1_800_000_000), machine: MachineIdentity(hostname: "h", platform: .linux),
                          sourceFormat: "json", integration: "json", logSource: LogSource(category: "antivirus"),
                          fields: [], raw: #"{"a":1}"#, line: 1)
        var other = event
        other.integration = "mobile-threat-defense"
        var elsewhere = event
        elsewhere.machine.hostname = "h2"
        #expect(EventKey(event) != EventKey(other))
        #expect(EventKey(event) != EventKey(elsewhere))
        var shouted = event
        shouted.machine.hostname = "H"
        #expect(EventKey(event) == EventKey(shouted))
    }

    /// The migrations' SQL functions are `EventKey`'s, even for a raw record that holds a NUL
    /// byte or a host name in capitals.
    @Test func theSQLKeyFunctionsAreEventKeys() throws {
        let workspace = TemporaryDirectory()
        let connection = try Connection(path: workspace.databasePath)
        try connection.registerEventKeyFunctions()
        for (raw, category, host) in [("a\u{0}b", "antivirus" as String?, "Web-01"), ("plain", nil, "h"), ("é \u{0}", "x", "ÉCOLE")] {
            let time = Timestamp(microseconds: 1_764_237_600_000_000)
            let key = EventKey(sourceFormat: "clamav", category: category, time: time, raw: raw, hostname: host, integration: "clamav")
            let identity = try connection.statement("SELECT vigil_event_key(?, ?, ?, ?, ?, ?) AS key")
                .bind("clamav", category, time.microseconds, raw, host, "clamav").firstRow { $0.int("key") }
            #expect(identity == key.identity, "\(raw.debugDescription)")
            for probe in [0, 5, EventKey.maximumProbes - 1] {
                let storage = try connection.statement("SELECT vigil_event_storage_key(?, ?, ?, ?, ?, ?, ?) AS key")
                    .bind("clamav", category, time.microseconds, raw, host, "clamav", probe).firstRow { $0.int("key") }
                #expect(storage == key.storageKey(probe: probe), "\(raw.debugDescription), try \(probe)")
            }
        }
    }

    /// Storage keys are ordered by the event's second, so that an import appends to the key
    /// index; each try draws other bits, and times outside 1970–2106 still give valid keys.
    @Test func storageKeysFollowTheSecondAndEachTryDrawsAnew() {
        func key(_ seconds: Int64, _ raw: String) -> EventKey {
            EventKey(sourceFormat: "json", category: nil, time: Timestamp(microseconds: seconds * 1_000_000), raw: raw,
                     hostname: "h", integration: "json")
        }
        let early = key(1_800_000_000, "a"), late = key(1_800_000_001, "b")
        for probe in 0..<EventKey.maximumProbes {
            #expect(early.storageKey(probe: probe) >> 31 == 1_800_000_000)
            #expect(early.storageKey(probe: probe) < late.storageKey(probe: 0))
        }
        #expect(Set((0..<EventKey.maximumProbes).map(early.storageKey(probe:))).count == EventKey.maximumProbes)
        #expect(key(-5, "x").storageKey(probe: 0) >> 31 == 0)
        #expect(key(Int64(UInt32.max) + 10, "x").storageKey(probe: 3) >> 31 == Int64(UInt32.max))
        #expect(key(Int64(UInt32.max) + 10, "x").storageKey(probe: 3) >= 0)
    }

    /// Two different events that draw the same storage key are both stored: the second takes its
    /// next try, and re-importing either adds nothing. Forced here by storing a foreign event
    /// under the first event's first key.
    @Test(arguments: TestBackend.available) func aStorageKeyCollisionStoresBothAndStaysIdempotent(on backend: TestBackend) throws {
        let store = try TestStore(backend, in: TemporaryDirectory())
        let event = jsonEvent(raw: "the real record", seconds: 1_000)
        let squatter = jsonEvent(raw: "another record", seconds: 1_000)
        let writer = BatchCommitter(writer: try store.writer(), correlator: Correlator(ruleSet: RuleSet(rules: [])))
        _ = try writer.write([BatchItem(event: squatter, detections: [])], rejected: [], recordsRead: 1, importID: nil)
        try store.execute("UPDATE events SET key = ?", [.int(EventKey(event).storageKey(probe: 0))])

        let first = try writer.write([BatchItem(event: event, detections: [])], rejected: [], recordsRead: 1, importID: nil)
        #expect(first.stored == 1)
        #expect(try store.integer("SELECT key AS value FROM events WHERE raw = ?", [.text(event.raw)]) == EventKey(event).storageKey(probe: 1))
        let again = try writer.write([BatchItem(event: event, detections: []), BatchItem(event: squatter, detections: [])],
                                     rejected: [], recordsRead: 2, importID: nil)
        #expect(again.duplicates == 1, "the event is found at its second try")
        #expect(again.stored == 1, "the squatter's own first key is free: stored there, as its first import would have")
        #expect(try store.count(.events) == 3)
    }

    /// The writer inserts events in groups (`StoreWriter.rowsPerInsert`); a group holding an
    /// event stored before, the same event twice, and an event whose first key another event
    /// holds stores each as one by one would, and says which row each stored event took. Then a
    /// group of events all stored before, which ends grouping for the batch, and a tail.
    @Test(arguments: TestBackend.available) func groupedInsertsStoreWhatOneByOneWould(on backend: TestBackend) throws {
        let store = try TestStore(backend, in: TemporaryDirectory())
        let writer = try store.writer()
        let events = (0..<40).map { jsonEvent(raw: "record \($0)", seconds: 3_000) }
        let squatter = jsonEvent(raw: "squatter", seconds: 3_000)
        func write(_ events: [Event]) throws -> [StoreResult] {
            try writer.transaction {
                try writer.store(events.map { BatchItem(event: $0, detections: []) }, importID: nil, futureAfter: Timestamp(microseconds: .max))
            }
        }
        _ = try write([events[3], squatter] + events[16..<32])
        try store.execute("UPDATE events SET key = ? WHERE raw = 'squatter'", [.int(EventKey(events[5]).storageKey(probe: 0))])

        // Group one: records 0-14 with record 7 twice; group two: records 16-31, all stored
        // before; then records 32-39, and 15, one by one.
        let batch = Array(events[0..<8]) + Array(events[7..<15]) + Array(events[16..<32]) + Array(events[32..<40]) + [events[15]]
        let results = try write(batch)
        var storedRaw: [String] = []
        for (event, result) in zip(batch, results) {
            switch result {
            case .stored(let stored):
                storedRaw.append(event.raw)
                #expect(try store.integer("SELECT key AS value FROM events WHERE id = ? AND raw = ?", [.int(stored.eventID), .text(event.raw)])
                        == stored.key, "\(event.raw) is the row its result names, under the key it names")
            case .duplicate: break
            case .refused(let reason): Issue.record("\(event.raw) refused: \(reason)")
            }
        }
        #expect(storedRaw == ((0..<15).filter { $0 != 3 } + Array(32..<40) + [15]).map { "record \($0)" },
                "stored once each, in batch order")
        #expect(results.count { if case .duplicate = $0 { true } else { false } } == 18, "record 3, record 7's second copy, records 16-31")
        #expect(try store.integer("SELECT key AS value FROM events WHERE raw = 'record 5'") == EventKey(events[5]).storageKey(probe: 1))
        #expect(try store.count(.events) == 41)

        let again = try write(batch)
        #expect(again.allSatisfy { if case .duplicate = $0 { true } else { false } }, "importing the batch again adds nothing")
        #expect(try store.count(.events) == 41)
    }

    /// The writer hands SQLite an event's integration, format and log source only when they
    /// change from the row before (`Statement.bindRepeatedText`): a batch whose events change
    /// them at every row, to other values and to none, stores each event's own.
    @Test(arguments: TestBackend.available) func eachEventKeepsItsOwnSourceColumnsWhenTheyChangeRowByRow(on backend: TestBackend) throws {
        let store = try TestStore(backend, in: TemporaryDirectory())
        let writer = try store.writer()
        let sources = [LogSource(product: "linux", service: "auditd"), LogSource(category: "process_creation"),
                       LogSource(product: "macos", category: "file_event", service: "santa"), LogSource()]
        let events = (0..<40).map { index in
            Event(time: Timestamp(microseconds: 4_000_000_000 + Int64(index)), machine: MachineIdentity(hostname: "h", platform: .linux),
                  sourceFormat: index % 3 == 0 ? "json" : "auditd", integration: index % 5 == 0 ? "json" : "auditd",
                  logSource: sources[(index / 2) % sources.count], fields: [], raw: "record \(index)", line: index + 1)
        }
        let results = try writer.transaction {
            try writer.store(events.map { BatchItem(event: $0, detections: []) }, importID: nil, futureAfter: Timestamp(microseconds: .max))
        }
        #expect(results.allSatisfy { if case .stored = $0 { true } else { false } })
        let stored = try store.lines("""
            SELECT raw || '|' || integration || '|' || source_format || '|' || COALESCE(product, '-') || '|'
                || COALESCE(category, '-') || '|' || COALESCE(service, '-') AS line FROM events ORDER BY id
            """)
        #expect(stored == events.map { event in
            [event.raw, event.integration, event.sourceFormat, event.logSource.product ?? "-", event.logSource.category ?? "-",
             event.logSource.service ?? "-"].joined(separator: "|")
        })
    }

    /// An event whose every storage key holds another event is refused and recorded with its
    /// line and reason; the events around it are stored.
    @Test(arguments: TestBackend.available) func anEventWithEveryKeyTakenIsRefusedAndTheRestLand(on backend: TestBackend) throws {
        let store = try TestStore(backend, in: TemporaryDirectory())
        let victim = jsonEvent(raw: "victim", seconds: 2_000)
        let key = EventKey(victim)
        let writer = BatchCommitter(writer: try store.writer(), correlator: Correlator(ruleSet: RuleSet(rules: [])))
        let squatters = (0..<EventKey.maximumProbes).map { BatchItem(event: jsonEvent(raw: "squatter \($0)", seconds: 2_000), detections: []) }
        _ = try writer.write(squatters, rejected: [], recordsRead: squatters.count, importID: nil)
        for (probe, squatter) in squatters.enumerated() {
            try store.execute("UPDATE events SET key = ? WHERE raw = ?", [.int(key.storageKey(probe: probe)), .text(squatter.event.raw)])
        }
        let importID = try writer.beginImport(source: "test", format: "json", integration: "json")
        var before = jsonEvent(raw: "before", seconds: 2_000), after = jsonEvent(raw: "after", seconds: 2_000)
        var refused = victim
        (before.line, refused.line, after.line) = (1, 2, 3)
        let outcome = try writer.write([before, refused, after].map { BatchItem(event: $0, detections: []) },
                                       rejected: [], recordsRead: 3, importID: importID)
        #expect(outcome.stored == 2)
        #expect(outcome.rejected == 1)
        let rejected = try store.store.rejectedRecords(importID: importID, limit: 10)
        #expect(rejected.map(\.record.line) == [2])
        #expect(rejected.first?.record.reason.contains("storage keys") == true)
    }

    /// A database written by schema 8, whose keys covered only format, category, time and raw
    /// text, is rekeyed on open: the file re-imported for its machine adds nothing, and for
    /// another machine it is stored.
    @Test func aVersion8DatabaseIsRekeyedByTheMigration() throws {
        let workspace = TemporaryDirectory()
        let connection = try Connection(path: workspace.databasePath)
        try connection.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
        for migration in Migrations.all where migration.version <= 8 {
            try connection.execute(migration.sql)
            try connection.statement("INSERT INTO schema_migrations VALUES (?, ?, 0)").bind(migration.version, migration.name).run()
        }
        try connection.execute("INSERT INTO machines (id, hostname, os_platform, first_seen, last_seen) VALUES (1, 'Web-01', 'linux', 0, 0)")
        // The rows schema 8's writer stored for the scan log above: key = SHA-256 of format, category, time, raw.
        let time = try #require(Timestamp(year: 2026, month: 11, day: 27, hour: 20, minute: 23, second: 21)).microseconds
        for (index, line) in Self.scanLog.split(separator: "\n").prefix(2).enumerated() {
            var hasher = SHA256()
            hasher.update(data: Array("clamav".utf8) + [0] + Array("antivirus".utf8) + [0])
            withUnsafeBytes(of: time.littleEndian) { hasher.update(bufferPointer: $0) }
            hasher.update(data: Array(line.utf8))
            let key = hasher.finalize().prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } >> 1
            try connection.statement("""
                INSERT INTO events (key, time, machine_id, integration, source_format, product, category, service, fields, raw, line)
                VALUES (?, ?, 1, 'clamav', 'clamav', 'linux', 'antivirus', 'clamav', '{}', ?, ?)
                """).bind(Int64(bitPattern: key), time, String(line), index + 1).run()
        }

        let store = try Store(path: workspace.databasePath)
        #expect(try store.schemaVersion() == Migrations.latestVersion)
        try store.setIntegration("clamav", enabled: true, actor: "test")
        let again = try importScan(through: ImportPipeline(store: store, ruleSet: .builtin()), workspace, host: "web-01")
        #expect(again.outcome.stored == 0)
        #expect(again.outcome.duplicates == 2)
        #expect(try importScan(through: ImportPipeline(store: store, ruleSet: .builtin()), workspace, host: "web-02").outcome.stored == 2)
        #expect(try store.count(.events) == 4)
    }

    /// Upgrading a schema 19 database moves every event to its storage key; an event whose first
    /// key an earlier event took moves to its next one, and re-importing it adds nothing.
    @Test func theUpgradeSettlesStorageKeyCollisions() throws {
        let workspace = TemporaryDirectory()
        let connection = try Connection(path: workspace.databasePath)
        try connection.registerEventKeyFunctions()
        try connection.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
        func apply(_ migration: (version: Int, name: String, sql: String)) throws {
            try connection.execute(migration.sql)
            try connection.statement("INSERT INTO schema_migrations VALUES (?, ?, 0)").bind(migration.version, migration.name).run()
        }
        for migration in Migrations.all where migration.version <= 19 { try apply(migration) }
        try connection.execute("INSERT INTO machines (id, hostname, os_platform, first_seen, last_seen) VALUES (1, 'h', 'linux', 0, 0)")
        let (earlier, later) = (jsonEvent(raw: "earlier", seconds: 3_000), jsonEvent(raw: "later", seconds: 3_000))
        for event in [earlier, later] {
            try connection.statement("""
                INSERT INTO events (key, time, machine_id, integration, source_format, category, fields, raw, line)
                VALUES (?, ?, 1, 'json', 'json', 'process_creation', '{}', ?, 1)
                """).bind(EventKey(event).identity, event.time.microseconds, event.raw).run()
        }
        // The earlier event draws the later one's first storage key: forced, as a real draw would take 2^31 tries to find.
        let migration20 = try #require(Migrations.all.first { $0.version == 20 })
        try connection.execute(migration20.sql)
        try connection.statement("UPDATE events SET key = ? WHERE raw = 'earlier'").bind(EventKey(later).storageKey(probe: 0)).run()
        try Migrations.settleStorageKeyCollisions(connection)
        try connection.statement("INSERT INTO schema_migrations VALUES (20, ?, 0)").bind(migration20.name).run()
        for migration in Migrations.all where migration.version == 21 { try apply(migration) }
        #expect(try connection.statement("SELECT key FROM events WHERE raw = 'later'").firstInteger() == EventKey(later).storageKey(probe: 1))

        let store = try Store(path: workspace.databasePath)
        #expect(try store.schemaVersion() == Migrations.latestVersion)
        let again = try BatchCommitter(store: store).write([BatchItem(event: later, detections: [])], rejected: [], recordsRead: 1, importID: nil)
        #expect(again.duplicates == 1)
        #expect(try store.count(.events) == 2)
    }
}

/// Stored events are filed under these keys: a change to how a key is computed would make every
/// re-import of an existing store a duplicate-blind second copy. The digests are pinned.
@Suite struct EventKeyStabilityTests {
    static let cases: [(format: String, category: String?, raw: String, host: String, integration: String, identity: Int64, storage: Int64)] = [
        ("auditd", nil, "type=SYSCALL msg=audit(1.0:1): exe=\"/bin/ls\"", "web-01", "auditd", 872_844_071_366_747_596, 3_788_671_398_108_375_533),
        ("clamav", "antivirus", "a\u{0}b", "Web-01.Example.COM", "clamav", 934_300_112_062_262_804, 3_788_671_398_435_926_615),
        ("json", "process_creation", "é ☃", "ÉCOLE-ÜBER", "ecs", 1_558_226_664_798_258_168, 3_788_671_397_377_642_592),
        ("syslog", "", "", "a-host-name-longer-than-thirty-two-bytes.example.org", "", 4_841_028_313_784_343_515, 3_788_671_398_724_392_210),
    ]

    @Test func keysAreThoseEarlierVersionsStored() {
        for entry in Self.cases {
            let key = EventKey(sourceFormat: entry.format, category: entry.category, time: Timestamp(microseconds: 1_764_237_600_123_456),
                               raw: entry.raw, hostname: entry.host, integration: entry.integration)
            #expect(key.identity == entry.identity, "\(entry.raw.debugDescription) on \(entry.host)")
            #expect(key.storageKey(probe: 0) == entry.storage, "\(entry.raw.debugDescription) on \(entry.host)")
        }
    }
}
