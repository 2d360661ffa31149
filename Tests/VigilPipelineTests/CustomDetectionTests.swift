import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilPostgres
import VigilStore

/// Custom detections: a saved query raises an alert per row, deduplicated by machine and key,
/// and never twice for the same event.
@Suite(.runsOn(.busy)) struct CustomDetectionTests {
    /// An sshd failure as JSON, from `source` on `host` at `time`.
    func failure(_ time: String, host: String, source: String) -> String {
        #"{"@timestamp":"\#(time)","hostname":"\#(host)","os_platform":"linux","logsource":{"product":"linux","service":"sshd"},"message":"Failed password for root","SourceIp":"\#(source)"}"#
    }

    func importJSON(_ store: Store, _ workspace: TemporaryDirectory, _ lines: [String]) throws {
        let path = try workspace.write("events-\(UUID().uuidString).ndjson", lines.joined(separator: "\n"))
        _ = try ImportPipeline(store: store, ruleSet: RuleSet(rules: []))
            .importFiles([path], format: .fixed(.json), integration: "json", actor: "test")
    }

    /// A store of one backend with what runs its custom detections: on SQLite, the read-only
    /// hunting connection and the store's writer; on PostgreSQL, a hunting role of its own and
    /// a PostgreSQL writer.
    final class Runner {
        let test: TestStore
        let workspace: TemporaryDirectory
        private let engine: PostgresHuntingQuery?
        private let committer: BatchCommitter

        init(_ backend: TestBackend) throws {
            workspace = TemporaryDirectory()
            test = try TestStore(backend, in: workspace)
            if let sqlite = test.sqlite {
                engine = nil
                committer = BatchCommitter(store: sqlite)
            } else {
                let database = try #require(test.postgresDatabase)
                let hunter = try database.loginRole()
                try #require(test.postgresStore).grantHunting(to: hunter.name, actor: "test")
                engine = PostgresHuntingQuery(url: hunter.url)
                committer = BatchCommitter(writer: try PostgresWriter(url: database.url), correlator: Correlator(ruleSet: RuleSet(rules: [])))
            }
        }

        var store: any AlertQueries & AuditLog & CustomDetectionStore { test.store }

        func importJSON(_ lines: [String]) throws {
            let path = try workspace.write("events-\(UUID().uuidString).ndjson", lines.joined(separator: "\n"))
            _ = try test.pipeline(ruleSet: RuleSet(rules: [])).importFiles([path], format: .fixed(.json), integration: "json", actor: "test")
        }

        func run(_ detection: CustomDetection, at time: Timestamp = .now()) async throws -> CustomDetectionOutcome {
            let (rows, truncated) = if let engine {
                try await CustomDetectionRun.read(detection, engine: engine)
            } else {
                try CustomDetectionRun.read(detection, databasePath: try #require(test.sqlite).path)
            }
            return try committer.raise(detection, rows: rows, truncated: truncated, ranAt: time)
        }
    }

    static let failuresBySource = """
        SELECT max(id) AS event_id, field(fields, 'SourceIp') AS key, count(*) AS failures FROM events
        WHERE field(fields, 'message') LIKE 'Failed password%' GROUP BY hostname, key
        """

    func detection(_ query: String = failuresBySource) -> CustomDetection {
        CustomDetection(name: "ssh-failures", title: "SSH password failures", query: query, every: .seconds(3600), severity: .high,
                        tags: ["attack.t1110"], createdAt: Timestamp(seconds: 1_800_000_000), actor: "analyst")
    }

    func run(_ detection: CustomDetection, _ store: Store, _ workspace: TemporaryDirectory, at time: Timestamp = .now()) throws -> CustomDetectionOutcome {
        let (rows, truncated) = try CustomDetectionRun.read(detection, databasePath: workspace.databasePath)
        return try BatchCommitter(store: store).raise(detection, rows: rows, truncated: truncated, ranAt: time)
    }

    @Test(arguments: TestBackend.available) func aRowRaisesOneAlertAndTheSameRowNeverAgain(on backend: TestBackend) async throws {
        let runner = try Runner(backend)
        let store = runner.store
        try runner.importJSON([
            failure("2026-03-03T10:00:00Z", host: "web-01", source: "203.0.113.9"),
            failure("2026-03-03T10:00:05Z", host: "web-01", source: "203.0.113.9"),
            failure("2026-03-03T10:00:09Z", host: "db-01", source: "203.0.113.9"),
        ])
        let saved = detection()
        try store.addCustomDetection(saved)

        let first = try await runner.run(saved)
        #expect(first.rows == 2)
        #expect(first.alertsOpened == 2)
        let alerts = try store.alerts(AlertFilter())
        #expect(alerts.map(\.hostname).sorted() == ["db-01", "web-01"])
        #expect(alerts.allSatisfy { $0.ruleID == "custom:ssh-failures" && $0.severity == .high && $0.title == "SSH password failures" })
        let web = try #require(alerts.first { $0.hostname == "web-01" })
        #expect(web.matchedFields.contains("\"failures\":\"2\""))
        #expect(web.techniques.contains("T1110"))

        // The next run sees the same rows: nothing new.
        let second = try await runner.run(saved)
        #expect(second.alreadyRaised == 2)
        #expect(second.alertsOpened == 0 && second.alertsFolded == 0)
        #expect(try store.alerts(AlertFilter()).count == 2)
    }

    @Test(arguments: TestBackend.available) func rowsOfOneMachineAndKeyFoldAndAnotherKeyIsItsOwnAlert(on backend: TestBackend) async throws {
        let runner = try Runner(backend)
        let store = runner.store
        let saved = detection()
        try store.addCustomDetection(saved)
        try runner.importJSON([failure("2026-03-03T10:00:00Z", host: "web-01", source: "203.0.113.9")])
        #expect(try await runner.run(saved).alertsOpened == 1)

        // A later failure from the same source (a new latest event, same key) folds into the open alert.
        try runner.importJSON([failure("2026-03-03T10:20:00Z", host: "web-01", source: "203.0.113.9")])
        let folded = try await runner.run(saved)
        #expect(folded.alertsFolded == 1)
        #expect(folded.alertsOpened == 0)
        #expect(try store.alerts(AlertFilter()).map(\.eventCount) == [2])

        // Another source on the same machine is another key: a second alert.
        try runner.importJSON([failure("2026-03-03T10:21:00Z", host: "web-01", source: "198.51.100.7")])
        let other = try await runner.run(saved)
        #expect(other.alertsOpened == 1)
        #expect(other.alreadyRaised == 1)
        #expect(try store.alerts(AlertFilter()).count == 2)
    }

    @Test(arguments: TestBackend.available) func aRunIsRecordedAndScheduledAndRowsWithoutAStoredEventAreSkipped(on backend: TestBackend) async throws {
        let runner = try Runner(backend)
        let store = runner.store
        try runner.importJSON([failure("2026-03-03T10:00:00Z", host: "web-01", source: "203.0.113.9")])
        let saved = detection("SELECT id + 1000 AS event_id FROM events UNION ALL SELECT NULL AS event_id")
        try store.addCustomDetection(saved)
        #expect(try store.dueCustomDetections(at: Timestamp(seconds: 1_800_000_000)).map(\.name) == ["ssh-failures"])

        let ranAt = Timestamp(seconds: 1_800_000_100)
        let outcome = try await runner.run(saved, at: ranAt)
        #expect(outcome.skipped == 2)
        #expect(try store.alerts(AlertFilter()).isEmpty)
        let recorded = try #require(try store.customDetections().first)
        #expect(recorded.lastRunAt == ranAt)
        #expect(recorded.lastOutcome == outcome.description)
        #expect(recorded.nextRunAt == Timestamp(seconds: 1_800_003_700))
        #expect(try store.dueCustomDetections(at: Timestamp(seconds: 1_800_003_699)).isEmpty)
        #expect(try store.nextCustomDetectionRun() == Timestamp(seconds: 1_800_003_700))

        // Two servers on one store claim the due run: one of them runs it.
        let due = try #require(try store.dueCustomDetections(at: Timestamp(seconds: 1_800_003_700)).first)
        #expect(try store.claimCustomDetectionRun(due, next: Timestamp(seconds: 1_800_007_300)))
        #expect(try !store.claimCustomDetectionRun(due, next: Timestamp(seconds: 1_800_007_300)), "claimed already")
        #expect(try store.nextCustomDetectionRun() == Timestamp(seconds: 1_800_007_300))

        try store.setCustomDetection("ssh-failures", enabled: false, actor: "analyst")
        #expect(try store.nextCustomDetectionRun() == nil)
        #expect(try store.audit(action: "detection.disable", target: nil, since: nil, limit: 10).count == 1)
        #expect(throws: StoreError.self) { try store.setCustomDetection("nothing", enabled: true, actor: "analyst") }
        try store.removeCustomDetection("ssh-failures", actor: "analyst")
        #expect(try store.customDetections().isEmpty)
    }

    @Test func aQueryWithoutEventIDOrOutsideTheViewsIsRefused() throws {
        let workspace = TemporaryDirectory()
        let store = try Store(path: workspace.databasePath)
        #expect(throws: StoreError.self) { try CustomDetectionRun.read(detection("SELECT id FROM events"), databasePath: workspace.databasePath) }
        #expect(throws: StoreError.self) { try CustomDetectionRun.read(detection("SELECT 1 AS event_id FROM api_keys"), databasePath: workspace.databasePath) }
        #expect(throws: StoreError.self) { try CustomDetectionRun.read(detection("SELECT event_id FROM nothing"), databasePath: workspace.databasePath) }
        #expect(throws: StoreError.self) { try store.addCustomDetection(CustomDetection(name: "bad name", title: "t", query: "SELECT 1 AS event_id",
                                                                                         every: .seconds(60), severity: .low, actor: "a")) }
        #expect(throws: StoreError.self) { try store.addCustomDetection(CustomDetection(name: "fast", title: "t", query: "SELECT 1 AS event_id",
                                                                                         every: .seconds(1), severity: .low, actor: "a")) }
        var untitled = detection()
        untitled.title = " "
        #expect(throws: StoreError.self) { try store.addCustomDetection(untitled) }
        var commaTag = detection()
        commaTag.tags = ["attack.t1110,attack.t1059"]
        #expect(throws: StoreError.self) { try store.addCustomDetection(commaTag) }
        try store.addCustomDetection(detection())
        #expect(throws: StoreError.self) { try store.addCustomDetection(detection()) }
        #expect(detection().nextRun(after: Timestamp(microseconds: .max - 5)) == Timestamp(microseconds: .max))
    }
}
