import Foundation
import Synchronization
import Testing
import VigilTestSupport
import VigilTooling
import VigilModel
import VigilPipeline
@testable import VigilStore

/// `vigil check`, `backup` and `purge` at the store level.
@Suite(.runsOn(.busy)) struct MaintenanceTests {
    /// 1,000 events a second apart from t=0, an alert citing event 10, and an import row.
    static func filledStore(_ database: TemporaryDirectory) throws -> Store {
        let store = try Store(path: database.databasePath)
        let writer = BatchCommitter(store: store)
        let importID = try writer.beginImport(source: "test", format: "json", integration: "json")
        let detection = Detection(rule: RuleInfo(id: "r", title: "Cited", severity: .high), matchedFields: [])
        let items = (0..<1_000).map { index in
            BatchItem(event: sampleEvent(raw: "e\(index)", seconds: Double(index)), detections: index == 10 ? [detection] : [])
        }
        _ = try writer.write(items, rejected: [RejectedRecord(line: 1_001, reason: "bad", raw: "x")], recordsRead: 1_001, importID: importID)
        try writer.finishImport(id: importID, failed: false)
        return store
    }

    @Test func aHealthyDatabasePassesAndTamperingIsFound() throws {
        let database = TemporaryDirectory()
        let store = try Self.filledStore(database)
        let report = try store.check()
        #expect(report.problems == [])
        #expect(report.events == 1_000)
        #expect(report.alerts == 1)
        #expect(report.imports == 1)

        try store.connection.execute("UPDATE imports SET events_stored = 5, rejected = 0")
        try store.connection.execute("INSERT INTO alert_events (alert_id, event_id) VALUES (999, 1)")
        let damaged = try store.check()
        #expect(damaged.problems.contains { $0.contains("import 1 recorded 5 events stored but 1000 events name it") })
        #expect(damaged.problems.contains { $0.contains("import 1 recorded 0 rejected records but 1 are stored") })
        #expect(damaged.problems.contains { $0.contains("foreign key") && $0.contains("alert_events") })
    }

    @Test func aBackupTakenDuringWritesIsConsistentAndRestores() throws {
        let database = TemporaryDirectory()
        let store = try Self.filledStore(database)
        let backup = TemporaryDirectory()
        // A second connection keeps writing while the backup runs.
        let writerDone = DispatchSemaphore(value: 0)
        let path = database.databasePath
        // What the concurrent writer did: batches committed, and any error (none is expected).
        let written = Mutex((batches: 0, errors: [String]()))
        let concurrent = Thread {
            defer { writerDone.signal() }
            do {
                let writer = BatchCommitter(store: try Store(path: path))
                for batch in 0..<20 {
                    let items = (0..<100).map { BatchItem(event: sampleEvent(raw: "late\(batch)-\($0)"), detections: []) }
                    _ = try writer.write(items, rejected: [], recordsRead: 100, importID: nil)
                    written.withLock { $0.batches += 1 }
                }
            } catch {
                written.withLock { $0.errors.append("\(error)") }
            }
        }
        concurrent.start()
        try store.backup(to: backup.databasePath)
        writerDone.wait()
        let (batches, errors) = written.withLock { ($0.batches, $0.errors) }
        #expect(errors == [])
        #expect(batches == 20)
        #expect(try store.count(.events) == 3_000)

        let restored = try Store(path: backup.databasePath)
        let report = try restored.check()
        #expect(report.problems == [])
        // A snapshot: the first 1,000 events and whole batches of the concurrent writer.
        #expect(report.events >= 1_000)
        #expect((report.events - 1_000) % 100 == 0)
        #expect(try restored.alerts(AlertFilter()).map(\.title) == ["Cited"])
    }

    @Test func purgeDeletesOldEventsInBoundedTransactionsAndKeepsEvidence() throws {
        let database = TemporaryDirectory()
        let store = try Self.filledStore(database)
        let outcome = try store.purgeEvents(olderThan: Timestamp(seconds: 500), includingAlertEvidence: false, actor: "test", idsPerTransaction: 64)
        #expect(outcome.eventsDeleted == 499)
        #expect(outcome.evidenceKept == 1)
        #expect(outcome.transactions == 16)  // 1,000 ids, 64 per transaction
        #expect(try store.count(.events) == 501)
        #expect(try store.check().problems == [])
        #expect(try store.alerts(AlertFilter()).first?.eventCount == 1)
        #expect(try store.audit(action: "events.purge").count == 1)

        let withEvidence = try store.purgeEvents(olderThan: Timestamp(seconds: 500), includingAlertEvidence: true, actor: "test")
        #expect(withEvidence.eventsDeleted == 1)
        #expect(try store.count(.alertEvents) == 0)
        #expect(try store.count(.alerts) == 1)
        #expect(try store.check().problems == [])
    }
}

/// `GET /api/v1/machines`, `vigil machines` and the console read counts kept on the machine;
/// they never count the events table (it took 10.7 s on 2.6M events) or the alerts table.
@Suite(.runsOn(.busy)) struct MachineCountTests {
    @Test func listingMachinesNeverScansTheEventsOrAlerts() throws {
        let database = TemporaryDirectory()
        let store = try MaintenanceTests.filledStore(database)
        let plan = try store.connection.statement("EXPLAIN QUERY PLAN " + MachineRow.listSQL(.sqlite)).rows { $0.text("detail") }
        #expect(!plan.isEmpty)
        #expect(!plan.contains { $0.contains("events") || $0.contains("alerts") }, "\(plan)")
    }

    @Test func eventCountsFollowWritesDuplicatesAndPurges() throws {
        let database = TemporaryDirectory()
        let store = try MaintenanceTests.filledStore(database)
        #expect(try store.machines().map(\.eventCount) == [1_000])
        // The same events again add nothing; a new machine counts its own.
        let writer = BatchCommitter(store: store)
        _ = try writer.write((0..<5).map { BatchItem(event: sampleEvent(raw: "e\($0)", seconds: Double($0)), detections: []) }
                             + [BatchItem(event: sampleEvent(host: "db-01", raw: "other"), detections: [])],
                             rejected: [], recordsRead: 6, importID: nil)
        #expect(try store.machines().map(\.eventCount) == [1, 1_000])
        _ = try store.purgeEvents(olderThan: Timestamp(seconds: 500), includingAlertEvidence: false, actor: "test", idsPerTransaction: 64)
        #expect(try store.machines().map(\.eventCount) == [1, 501])
        #expect(try store.check().problems == [])
        try store.connection.execute("UPDATE machines SET event_count = 7 WHERE hostname = 'db-01'")
        #expect(try store.check().problems == ["machine db-01 counts 7 events but 1 are stored"])
    }

    /// The dashboard's and machine list's alert counts are kept as alerts are opened (a trigger),
    /// folded into a later day (the writer) and moved (a trigger); `vigil check` finds them wrong. (The CLI
    /// tests run `vigil check` after importing through the real pipeline.)
    @Test func alertCountsFollowWritesAndCheckFindsThemWrong() throws {
        let database = TemporaryDirectory()
        let store = try MaintenanceTests.filledStore(database)  // one alert on web-01, day 0
        let day: Int64 = 86_400_000_000
        let writer = BatchCommitter(store: store)
        let detection = Detection(rule: RuleInfo(id: "r", title: "Cited", severity: .high), matchedFields: [])
        _ = try writer.write([BatchItem(event: sampleEvent(host: "db-01", raw: "other", seconds: 86_400), detections: [detection])],
                             rejected: [], recordsRead: 1, importID: nil)
        // The web-01 alert takes an event two days later: a fold (in a dedupe window that long) into another day.
        let outcome = try BatchCommitter(store: store, dedupeWindow: .seconds(3 * 86_400))
            .write([BatchItem(event: sampleEvent(raw: "later", seconds: 2 * 86_400 + 5), detections: [detection])],
                   rejected: [], recordsRead: 1, importID: nil)
        #expect(outcome.alertsUpdated == 1)
        let counted = try store.connection.statement("SELECT last_event_time / \(day) AS day, COUNT(*) AS n FROM alerts GROUP BY 1 ORDER BY 1")
            .rows { [$0.int("day"), $0.int("n")] }
        #expect(counted == [[1, 1], [2, 1]])
        let trend = try store.alertTrend(days: 3, now: Timestamp(seconds: 2 * 86_400))
        #expect(trend.map { [$0.day / day, Int64($0.count)] } == counted)
        let totals = try store.alertTotals()
        #expect(totals.bySeverity == [.high: 2])
        #expect(totals.byIntegration.map(\.count) == [2])
        #expect(totals.byPlatform.map(\.count) == [2])
        #expect(try store.machines().map(\.alertCount) == [1, 1])
        #expect(try store.check().problems == [])

        try store.connection.execute("UPDATE alert_counts SET count = 5 WHERE day = 2")
        try store.connection.execute("UPDATE machines SET alert_count = 3 WHERE hostname = 'db-01'")
        let problems = try store.check().problems
        #expect(problems.contains("machine db-01 counts 3 alerts but 1 are stored"), "\(problems)")
        #expect(problems.contains { $0.hasPrefix("alert_counts keeps 5 alerts of severity 3") && $0.hasSuffix("on day 2 but 1 are stored") }, "\(problems)")
    }
}
