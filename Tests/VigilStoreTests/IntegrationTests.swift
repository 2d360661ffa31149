import Foundation
import Testing
import VigilTestSupport
import VigilTooling
@testable import VigilStore
import VigilModel
import VigilDetection
import VigilPipeline

/// On both stores (`TestBackend.available`), but for the compatibility list's editing.
@Suite(.runsOn(.busy)) struct IntegrationStoreTests {
    @Test(arguments: TestBackend.available) func toggleSequenceRevokesTokensAndNeedsANewOne(on backend: TestBackend) throws {
        let testStore = try TestStore(backend, in: TemporaryDirectory(), integrationsOn: false)
        let store = testStore.store
        #expect(throws: StoreError.self) {
            try store.createToken(integration: "clamav", hash: [1], expiresAt: Timestamp.now() + .seconds(60), machines: [], actor: "t")
        }
        try store.setIntegration("clamav", enabled: true, actor: "t")
        let first = try store.createToken(integration: "clamav", hash: [1], expiresAt: Timestamp.now() + .seconds(60), machines: [], actor: "t")
        #expect(try store.integration(named: "clamav")?.activeTokens == 1)
        try store.setIntegration("clamav", enabled: false, actor: "t")
        try store.setIntegration("clamav", enabled: true, actor: "t")
        #expect(try store.integration(named: "clamav")?.activeTokens == 0)
        #expect(try store.storedToken(hash: [1])?.revokedAt != nil)
        let second = try store.createToken(integration: "clamav", hash: [2], expiresAt: Timestamp.now() + .seconds(60), machines: [], actor: "t")
        #expect(second != first)
        #expect(try store.storedToken(hash: [2])?.revokedAt == nil)
        try store.revokeToken(integration: "clamav", id: second, actor: "t")
        #expect(throws: StoreError.self) { try store.revokeToken(integration: "clamav", id: second, actor: "t") }
        let actions = try store.audit(action: nil, target: nil, since: nil, limit: 100).map(\.action)
        #expect(actions == ["token.revoke", "token.create", "integration.on", "integration.off", "token.create", "integration.on"])
        #expect(try store.audit(action: "token", target: nil, since: nil, limit: 100).count == 3)
        #expect(try store.tokens(integration: "clamav").count == 2)
    }

    @Test(arguments: TestBackend.available) func customIntegrationsStartOff(on backend: TestBackend) throws {
        let testStore = try TestStore(backend, in: TemporaryDirectory(), integrationsOn: false)
        let store = testStore.store
        try store.addIntegration(IntegrationDefinition(name: "acme-mtd", displayName: "Acme", platforms: ["ios"], formats: ["cef"]), actor: "t")
        let added = try #require(try store.integration(named: "acme-mtd"))
        #expect(!added.enabled)
        #expect(added.formats == ["cef"])
        #expect(throws: StoreError.self) {
            try store.addIntegration(IntegrationDefinition(name: "acme-mtd", displayName: "Acme", platforms: ["ios"], formats: ["cef"]), actor: "t")
        }
    }

    @Test(arguments: [
        ("linux", "Ubuntu 22.04", true), ("linux", "Ubuntu 22.04.4 LTS", true), ("linux", "Ubuntu 18.04", false),
        ("linux", "Red Hat Enterprise Linux 9.3", true), ("linux", "CentOS 7", false), ("linux", "22.04", false),
        ("macos", "14.5", true), ("macos", "12.7", false), ("ios", "17.5", true), ("ios", "15.8", false),
        ("android", "14", true), ("android", "6.0.1", false),
    ])
    func compatibility(platform: String, version: String, supported: Bool) throws {
        let database = TemporaryDirectory()
        let list = try Store(path: database.databasePath).compatibility()
        #expect(Compatibility.isSupported(platform: platform, version: version, list: list) == supported)
    }

    @Test(arguments: TestBackend.available) func machinesAreFlaggedUnsupportedAndInactive(on backend: TestBackend) throws {
        let testStore = try TestStore(backend, in: TemporaryDirectory(), integrationsOn: false)
        let store = testStore.store
        try store.setIntegration("json", enabled: true, actor: "t")
        var old = sampleEvent(host: "old-phone", raw: "a")
        old.machine = MachineIdentity(hostname: "old-phone", platform: .android, osVersion: "6.0.1")
        let new = sampleEvent(host: "web-01", raw: "b")
        _ = try BatchCommitter(writer: try testStore.writer(), correlator: Correlator(ruleSet: RuleSet(rules: []))).write([BatchItem(event: old, detections: []), BatchItem(event: new, detections: [])],
                                                rejected: [], recordsRead: 0, importID: nil)
        var machines = try store.machines()
        #expect(machines.first { $0.hostname == "old-phone" }?.supported == false)
        #expect(machines.first { $0.hostname == "web-01" }?.supported == true)
        #expect(machines.allSatisfy { $0.active })
        try store.setIntegration("json", enabled: false, actor: "t")
        machines = try store.machines()
        #expect(machines.allSatisfy { !$0.active })
        // Stored data stays queryable.
        #expect(try testStore.count(.events) == 2)
        // `vigil compatibility add` edits the SQLite store only so far.
        guard let sqlite = testStore.sqlite else { return }
        try sqlite.addCompatibility(CompatibilityRow(platform: "android", distribution: "", version: "6", note: "legacy fleet"), actor: "t")
        #expect(try store.machines().first { $0.hostname == "old-phone" }?.supported == true)
    }
}
