import Foundation
import Testing
import VigilTestSupport
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore
import VigilTooling

/// Data is bound to the machines an integration covers, and no pusher can rewrite what a
/// machine is: an integration's platforms are enforced, and a different platform or OS claimed
/// for a known machine is kept aside for review, never written over it. On both stores.
@Suite(.runsOn(.busy)) struct MachineIdentityTests {
    static func event(host: String = "web-01", platform: String, version: String, second: Int = 0) -> String {
        #"{"@timestamp":"2026-03-03T10:00:0\#(second)Z","hostname":"\#(host)","os_platform":"\#(platform)","os_version":"\#(version)","#
            + #""logsource":{"category":"antivirus"},"Signature":"Unix.Trojan.Mirai-1"}"#
    }

    func importJSON(_ lines: [String], through integration: String, into store: TestStore, _ workspace: TemporaryDirectory) throws -> ImportSummary {
        let path = try workspace.write("events-\(UUID().uuidString).ndjson", lines.joined(separator: "\n"))
        return try store.pipeline(ruleSet: .builtin()).importFiles([path], format: .fixed(.json), integration: integration, actor: "test")
    }

    @Test(arguments: TestBackend.available) func anIntegrationTakesOnlyMachinesOfItsPlatforms(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace, integrationsOn: false)
        let store = testStore.store
        try store.addIntegration(IntegrationDefinition(name: "linux-edr", displayName: "Linux EDR", platforms: ["linux"], formats: ["json"]), actor: "test")
        try store.setIntegration("linux-edr", enabled: true, actor: "test")
        let summary = try importJSON([Self.event(host: "web-01", platform: "linux", version: "22.04"),
                                      Self.event(host: "pixel", platform: "android", version: "14", second: 1),
                                      Self.event(host: "mystery", platform: "", version: "", second: 2)],
                                     through: "linux-edr", into: testStore, workspace)
        #expect(summary.outcome.stored == 2, "the Linux machine and the one that names no platform land")
        #expect(summary.outcome.rejected == 1)
        let rejection = try #require(summary.rejectedSample.first)
        #expect(rejection.line == 2)
        #expect(rejection.reason.contains("pixel is android") && rejection.reason.contains("covers only linux"))
        #expect(try store.machines().map(\.hostname).sorted() == ["mystery", "web-01"])
    }

    @Test(arguments: TestBackend.available) func anotherPlatformClaimedForAKnownMachineIsKeptForReviewNotWritten(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace)
        let store = testStore.store
        _ = try importJSON([Self.event(platform: "linux", version: "22.04")], through: "json", into: testStore, workspace)
        _ = try importJSON([Self.event(platform: "android", version: "4.4", second: 5), Self.event(platform: "linux", version: "24.04", second: 6)],
                           through: "json", into: testStore, workspace)
        let machine = try #require(try store.machines().first)
        #expect(machine.osPlatform == "linux")
        #expect(machine.osVersion == "22.04")
        let review = try #require(machine.review)
        #expect(review.contains("android 4.4 via json") && review.contains("linux 24.04 via json"), "\(review)")
        // The machine's alerts still answer to its own platform.
        #expect(try store.alerts(AlertFilter(platform: .linux)).count == 1)
        #expect(try store.alerts(AlertFilter(platform: .android)).isEmpty)
    }

    @Test(arguments: TestBackend.available) func aMachineFirstSeenWithoutAPlatformTakesTheFirstOneNamed(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let testStore = try TestStore(backend, in: workspace)
        let store = testStore.store
        _ = try importJSON([Self.event(platform: "", version: "")], through: "json", into: testStore, workspace)
        _ = try importJSON([Self.event(platform: "macos", version: "14.5", second: 1)], through: "json", into: testStore, workspace)
        let machine = try #require(try store.machines().first)
        #expect(machine.osPlatform == "macos")
        #expect(machine.osVersion == "14.5")
        #expect(machine.review == nil, "filling in what was unknown is not a conflict")
    }
}
