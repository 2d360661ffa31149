import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

@Suite(.runsOn(.busy)) struct ImportPipelineTests {
    @Test func theDemoWorkloadRaisesMultiOSAlertsIncludingEICAR() throws {
        let workspace = TemporaryDirectory()
        let store = try Store(path: workspace.databasePath)
        try store.setIntegration("json", enabled: true, actor: "test")
        let input = try workspace.write("demo.ndjson", DemoData.lines(endingAt: Timestamp.now()).joined(separator: "\n"))
        let summary = try ImportPipeline(store: store, ruleSet: .builtin())
            .importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        #expect(summary.recordsRead == summary.outcome.stored + summary.outcome.rejected + summary.outcome.duplicates)
        let alerts = try store.alerts(AlertFilter())
        #expect(Set(alerts.map(\.osPlatform)) == ["linux", "macos", "ios", "android"])
        #expect(alerts.filter { $0.title == "EICAR test file detected" }.map(\.hostname).sorted() == ["mbp-alice", "pixel-carol", "web-01"])
        #expect(alerts.first { $0.title == "Reverse shell command line" }?.eventCount == 3)
    }

    @Test func reimportingAddsNothing() throws {
        let workspace = TemporaryDirectory()
        let store = try Store(path: workspace.databasePath)
        try store.setIntegration("json", enabled: true, actor: "test")
        let input = try workspace.write("a.ndjson", DemoData.lines(endingAt: Timestamp(seconds: 1_800_000_000)).joined(separator: "\n"))
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
        let workspace = TemporaryDirectory()
        let store = try Store(path: workspace.databasePath)
        let input = try workspace.write("a.ndjson", #"{"hostname":"x","Signature":"Eicar-Test-Signature"}"#)
        #expect(throws: IngestGate.Refusal.integrationOff("json")) {
            try ImportPipeline(store: store, ruleSet: .builtin()).importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        }
        for table: Store.CountedTable in [.events, .machines, .alerts, .imports, .rejectedRecords] {
            #expect(try store.count(table) == 0, "\(table)")
        }
        #expect(try store.integration(named: "json")?.eventsRefused == 1)
    }

    @Test func rejectedRecordsAreStoredWithLineNumbers() throws {
        let workspace = TemporaryDirectory()
        let store = try Store(path: workspace.databasePath)
        try store.setIntegration("json", enabled: true, actor: "test")
        let input = try workspace.write("a.ndjson", "{\"n\":1}\n{broken\n{\"n\":2}\n")
        let summary = try ImportPipeline(store: store, ruleSet: .builtin()).importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        #expect(summary.recordsRead == 3)
        #expect(summary.outcome.stored == 2)
        #expect(summary.outcome.rejected == 1)
        #expect(summary.rejectedSample.map(\.line) == [2])
        #expect(try store.count(.rejectedRecords) == 1)
    }
}
