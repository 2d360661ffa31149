import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

/// Only open alerts absorb detections, and the dedupe window is anchored on an alert's first
/// event. On both stores (`TestBackend.available`).
@Suite(.runsOn(.busy)) struct AlertLifecycleTests {
    func antivirus(_ time: String, host: String = "web-01") -> String {
        #"{"@timestamp":"\#(time)","hostname":"\#(host)","os_platform":"linux","logsource":{"category":"antivirus"},"Signature":"Unix.Trojan.Mirai-1"}"#
    }

    func importJSON(_ store: TestStore, _ workspace: TemporaryDirectory, _ lines: [String]) throws -> BatchOutcome {
        let path = try workspace.write("events-\(UUID().uuidString).ndjson", lines.joined(separator: "\n"))
        return try store.pipeline(ruleSet: .builtin())
            .importFiles([path], format: .fixed(.json), integration: "json", actor: "test").outcome
    }

    @Test(arguments: TestBackend.available) func aDetectionAfterResolutionOpensANewAlertThatNamesTheResolvedOne(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace)
        let store = testStore.store
        #expect(try importJSON(testStore, workspace, [antivirus("2026-03-03T10:00:00Z")]).alertsRaised == 1)
        let first = try #require(try store.alerts(AlertFilter()).first)
        try store.updateAlerts(ids: [first.id], AlertUpdate(status: "resolved", classification: "true_positive"), actor: "t")

        // The same attack ten minutes later, well inside the dedupe window.
        let outcome = try importJSON(testStore, workspace, [antivirus("2026-03-03T10:10:00Z")])
        #expect(outcome.alertsRaised == 1)
        #expect(outcome.alertsUpdated == 0)
        let alerts = try store.alerts(AlertFilter())
        #expect(alerts.count == 2)
        let reopened = try #require(alerts.first { $0.id != first.id })
        #expect(reopened.status == "new")
        #expect(reopened.previousAlertID == first.id)
        #expect(try store.alert(id: first.id)?.status == "resolved")
        #expect(try store.alert(id: first.id)?.eventCount == 1)
        #expect(try store.laterAlertIDs(following: first.id) == [reopened.id])

        // An alert in progress still absorbs the next one.
        try store.updateAlerts(ids: [reopened.id], AlertUpdate(status: "in_progress"), actor: "t")
        #expect(try importJSON(testStore, workspace, [antivirus("2026-03-03T10:20:00Z")]).alertsUpdated == 1)
        #expect(try store.alert(id: reopened.id)?.eventCount == 2)
    }

    @Test(arguments: TestBackend.available) func detectionsWithDifferentDedupeKeysAreSeparateAlerts(on backend: TestBackend) throws {
        // The antivirus rule deduplicates by Signature: two threats on one machine are two alerts.
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace)
        let store = testStore.store
        let other = antivirus("2026-03-03T10:01:00Z").replacingOccurrences(of: "Unix.Trojan.Mirai-1", with: "Linux.Ransom.Other")
        let outcome = try importJSON(testStore, workspace, [antivirus("2026-03-03T10:00:00Z"), other, antivirus("2026-03-03T10:02:00Z")])
        #expect(outcome.alertsRaised == 2)
        #expect(outcome.alertsUpdated == 1)
        #expect(try store.alerts(AlertFilter()).map(\.eventCount).sorted() == [1, 2])
    }

    @Test(arguments: TestBackend.available) func aTrickleOfDetectionsCannotKeepOneAlertOpenPastTheWindow(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace)
        let store = testStore.store
        // Every 59 minutes for 10 hours: each new alert covers at most one hour from its first event.
        let times = (0..<11).map { String(format: "2026-03-03T%02d:%02d:00Z", 10 + $0 * 59 / 60, $0 * 59 % 60) }
        _ = try importJSON(testStore, workspace, times.map { antivirus($0) })
        var oldestFirst = AlertFilter(sort: .firstEvent)
        oldestFirst.ascending = true
        let alerts = try store.alerts(oldestFirst)
        #expect(alerts.map(\.eventCount) == [2, 2, 2, 2, 2, 1])
        for alert in alerts {
            #expect(alert.lastEventTime.microseconds - alert.firstEventTime.microseconds <= 3_600_000_000)
        }
        #expect(alerts.dropFirst().allSatisfy { $0.previousAlertID != nil })
    }
}
