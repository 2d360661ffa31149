import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
@testable import VigilStore

/// Nothing is traded for speed: the two-thread, multi-worker import stores exactly what the
/// single-threaded import stores, on the same mixed workload.
@Suite(.runsOn(.busy)) struct ParallelPathTests {
    func importWorkload(parallel: Bool, files: [(format: SourceFormat, path: String)], database: String) throws -> Store {
        let store = try Store(path: database)
        for integration in try store.integrations() { try store.setIntegration(integration.name, enabled: true, actor: "test") }
        let pipeline = ImportPipeline(store: store, ruleSet: RuleSet.load(paths: ["builtin", corpusSigma]).ruleSet)
        pipeline.parallel = parallel
        pipeline.workers = parallel ? 2 : 1
        pipeline.batchSize = 1_000
        for file in files {
            let integration = try store.integrations().first { $0.formats.contains(file.format.rawValue) }!.name
            _ = try pipeline.importFiles([file.path], format: .fixed(file.format), integration: integration, actor: "test", defaultHostname: "h")
        }
        return store
    }

    @Test func parallelAndSerialImportsStoreTheSameRows() throws {
        let workspace = TemporaryDirectory()
        let files = try BenchWorkload.write(events: 20_000, to: workspace.url)
        let serial = try importWorkload(parallel: false, files: files, database: workspace.url.appendingPathComponent("serial.sqlite").path)
        let parallel = try importWorkload(parallel: true, files: files, database: workspace.url.appendingPathComponent("parallel.sqlite").path)
        let eventsQuery = "SELECT key, time, source_format, category, fields, raw FROM events ORDER BY key"
        let alertsQuery = "SELECT a.rule_id, m.hostname, a.event_count, a.first_event_time, a.last_event_time, a.dedupe_key FROM alerts a JOIN machines m ON m.id = a.machine_id ORDER BY 1, 2, 4"
        func rows(_ store: Store, _ sql: String) throws -> [String] {
            try store.connection.statement(sql).rows { row in row.columnNames.map { row.text($0) }.joined(separator: "|") }
        }
        let serialEvents = try rows(serial, eventsQuery)
        #expect(serialEvents.count > 15_000)
        #expect(try rows(parallel, eventsQuery) == serialEvents)
        let serialAlerts = try rows(serial, alertsQuery)
        #expect(serialAlerts.count > 50)
        #expect(try rows(parallel, alertsQuery) == serialAlerts)
        #expect(try serial.count(.alertEvents) == parallel.count(.alertEvents))
        #expect(try serial.incidents(limit: 1000).count == parallel.incidents(limit: 1000).count)
    }
}

let corpusSigma = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus/sigma").standardized.path
