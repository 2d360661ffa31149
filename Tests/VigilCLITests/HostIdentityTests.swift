import Foundation
import Testing
import VigilTooling

/// A machine is never invented silently: records that name none are stored under --hostname,
/// or under this host's name with a warning; an empty host name is refused.
@Suite struct HostIdentityTests {
    @Test func recordsThatNameNoMachineGetAWarningUnlessHostnameIsGiven() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["integration", "on", "clamav"], in: scratch.url)
        try scratch.write("scan.log", "/tmp/x.bin: Unix.Trojan.Mirai-1 FOUND\n")
        let defaulted = try await vigil(["import", "--integration", "clamav", "scan.log"], in: scratch.url)
        #expect(defaulted.status == 0)
        #expect(defaulted.stderr.contains("1 events name no machine and were stored under this host's name"), "\(defaulted.stderr)")
        let named = try await vigil(["import", "--integration", "clamav", "--hostname", "web-01", "scan.log"], in: scratch.url)
        #expect(named.status == 0 && !named.stderr.contains("name no machine"), "\(named.stderr)")
        #expect(try await vigil(["import", "--integration", "clamav", "--hostname", " ", "scan.log"], in: scratch.url).status == 64)
    }

    @Test func aRecordWithABlankHostNameIsRejectedAndItsNeighboursLand() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["integration", "on", "json"], in: scratch.url)
        try scratch.write("events.ndjson", """
            {"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"web-01"},"msg":"fine"}
            {"@timestamp":"2026-11-27T10:00:01Z","host":{"name":"  "},"msg":"blank host"}
            {"@timestamp":"2026-11-27T10:00:02Z","host":{"name":"web-02"},"msg":"fine too"}

            """)
        let imported = try await vigil(["import", "--integration", "json", "--json", "events.ndjson"], in: scratch.url)
        #expect(imported.stdout.contains("\"events_stored\":2") && imported.stdout.contains("\"rejected\":1"), "\(imported.stdout)")
        #expect(try await vigil(["rejected", "--format", "json"], in: scratch.url).stdout.contains("empty host name"))
    }

    /// `--platform` names the platform of a file's machines: a clamscan run on a Mac is a macOS machine's.
    @Test func platformSetsTheMachinesPlatformForAFile() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["integration", "on", "clamav"], in: scratch.url)
        try scratch.write("scan.log", "/Users/a/eicar.com: Win.Test.EICAR_HDB-1 FOUND\n")
        let imported = try await vigil(["import", "--integration", "clamav", "--hostname", "mbp-01", "--platform", "macos", "scan.log"], in: scratch.url)
        #expect(imported.status == 0, "\(imported.stderr)")
        let alerts = try await vigil(["alerts", "--os", "macos", "--format", "csv"], in: scratch.url).stdout
        #expect(alerts.contains("EICAR test file detected") && alerts.contains("mbp-01"), "\(alerts)")
        #expect(try await vigil(["import", "--integration", "clamav", "--platform", "beos", "scan.log"], in: scratch.url).status == 64)
    }
}
