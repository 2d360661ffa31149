import Foundation
import Testing
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

final class Workspace {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-pipeline-\(UUID().uuidString)")
    init() { try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: directory) }
    var database: String { directory.appendingPathComponent("vigil.sqlite").path }

    func file(_ name: String, _ contents: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

@Suite struct ImportPipelineTests {
    @Test func theDemoWorkloadRaisesMultiOSAlertsIncludingEICAR() throws {
        let workspace = Workspace()
        let store = try Store(path: workspace.database)
        try store.setIntegration("json", enabled: true, actor: "test")
        let input = try workspace.file("demo.ndjson", DemoData.lines(endingAt: Timestamp.now()).joined(separator: "\n"))
        let summary = try ImportPipeline(store: store, ruleSet: .builtin())
            .importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        #expect(summary.recordsRead == summary.outcome.stored + summary.outcome.rejected + summary.outcome.duplicates)
        let alerts = try store.alerts(AlertFilter())
        #expect(Set(alerts.map(\.osPlatform)) == ["linux", "macos", "ios", "android"])
        #expect(alerts.filter { $0.title == "EICAR test file detected" }.map(\.hostname).sorted() == ["mbp-alice", "pixel-carol", "web-01"])
        #expect(alerts.first { $0.title == "Reverse shell command line" }?.eventCount == 3)
    }

    @Test func reimportingAddsNothing() throws {
        let workspace = Workspace()
        let store = try Store(path: workspace.database)
        try store.setIntegration("json", enabled: true, actor: "test")
        let input = try workspace.file("a.ndjson", DemoData.lines(endingAt: Timestamp(seconds: 1_800_000_000)).joined(separator: "\n"))
        let pipeline = ImportPipeline(store: store, ruleSet: .builtin())
        let first = try pipeline.importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        let alertsAfterFirst = try store.count(.alerts)
        let second = try pipeline.importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        #expect(second.outcome.stored == 0)
        #expect(second.outcome.duplicates == first.outcome.stored)
        #expect(second.outcome.alertsRaised == 0)
        #expect(try store.count(.alerts) == alertsAfterFirst)
        #expect(try store.count(.events) == first.outcome.stored)
    }

    @Test func aRefusedImportStoresNothing() throws {
        let workspace = Workspace()
        let store = try Store(path: workspace.database)
        let input = try workspace.file("a.ndjson", #"{"hostname":"x","Signature":"Eicar-Test-Signature"}"#)
        #expect(throws: IngestGate.Refusal.integrationOff("json")) {
            try ImportPipeline(store: store, ruleSet: .builtin()).importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        }
        for table: Store.CountedTable in [.events, .machines, .alerts, .imports, .rejectedRecords] {
            #expect(try store.count(table) == 0, "\(table)")
        }
        #expect(try store.integration(named: "json")?.eventsRefused == 1)
    }

    @Test func rejectedRecordsAreStoredWithLineNumbers() throws {
        let workspace = Workspace()
        let store = try Store(path: workspace.database)
        try store.setIntegration("json", enabled: true, actor: "test")
        let input = try workspace.file("a.ndjson", "{\"n\":1}\n{broken\n{\"n\":2}\n")
        let summary = try ImportPipeline(store: store, ruleSet: .builtin()).importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        #expect(summary.recordsRead == 3)
        #expect(summary.outcome.stored == 2)
        #expect(summary.outcome.rejected == 1)
        #expect(summary.rejectedSample.map(\.line) == [2])
        #expect(try store.count(.rejectedRecords) == 1)
    }
}
