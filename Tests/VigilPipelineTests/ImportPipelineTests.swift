import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

/// On both stores (`TestBackend.available`).
@Suite(.runsOn(.busy)) struct ImportPipelineTests {
    @Test(arguments: TestBackend.available) func theDemoWorkloadRaisesMultiOSAlertsIncludingEICAR(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace)
        let store = testStore.store
        let input = try workspace.write("demo.ndjson", DemoData.lines(endingAt: Timestamp.now()).joined(separator: "\n"))
        let summary = try testStore.pipeline(ruleSet: .builtin())
            .importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        #expect(summary.recordsRead == summary.outcome.stored + summary.outcome.rejected + summary.outcome.duplicates)
        let alerts = try store.alerts(AlertFilter())
        #expect(Set(alerts.map(\.osPlatform)) == ["linux", "macos", "ios", "android"])
        #expect(alerts.filter { $0.title == "EICAR test file detected" }.map(\.hostname).sorted() == ["mbp-alice", "pixel-carol", "web-01"])
        #expect(alerts.first { $0.title == "Reverse shell command line" }?.eventCount == 3)
    }

    @Test(arguments: TestBackend.available) func reimportingAddsNothing(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace)
        let store = testStore.store
        let input = try workspace.write("a.ndjson", DemoData.lines(endingAt: Timestamp(seconds: 1_800_000_000)).joined(separator: "\n"))
        let pipeline = try testStore.pipeline(ruleSet: .builtin())
        let first = try pipeline.importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        let alertsAfterFirst = try testStore.count(.alerts)
        let second = try pipeline.importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        #expect(second.outcome.stored == 0)
        #expect(second.outcome.duplicates == first.outcome.stored)
        #expect(second.outcome.alertsRaised == 0)
        #expect(try testStore.count(.alerts) == alertsAfterFirst)
        #expect(try testStore.count(.events) == first.outcome.stored)
    }

    @Test(arguments: TestBackend.available) func aRefusedImportStoresNothing(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace, integrationsOn: false)
        let store = testStore.store
        let input = try workspace.write("a.ndjson", #"{"hostname":"x","Signature":"Eicar-Test-Signature"}"#)
        #expect(throws: IngestGate.Refusal.integrationOff("json")) {
            try testStore.pipeline(ruleSet: .builtin()).importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        }
        for table: Store.CountedTable in [.events, .machines, .alerts, .imports, .rejectedRecords] {
            #expect(try testStore.count(table) == 0, "\(table)")
        }
        #expect(try store.integration(named: "json")?.eventsRefused == 1)
    }

    @Test(arguments: TestBackend.available) func rejectedRecordsAreStoredWithLineNumbers(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace)
        let store = testStore.store
        let input = try workspace.write("a.ndjson", "{\"n\":1}\n{broken\n{\"n\":2}\n")
        let summary = try testStore.pipeline(ruleSet: .builtin()).importFiles([input], format: .fixed(.json), integration: "json", actor: "test")
        #expect(summary.recordsRead == 3)
        #expect(summary.outcome.stored == 2)
        #expect(summary.outcome.rejected == 1)
        #expect(summary.rejectedSample.map(\.line) == [2])
        #expect(try testStore.count(.rejectedRecords) == 1)
    }
}
