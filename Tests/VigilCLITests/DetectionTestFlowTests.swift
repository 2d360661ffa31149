import Foundation
import Testing
import VigilTooling

/// The onboarding flow from the README, with the real ClamAV.
@Suite struct DetectionTestFlowTests {
    static let clamscan = ["/usr/bin/clamscan", "/usr/local/bin/clamscan"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs the real `clamscan` on `eicar.com.txt` in `directory`, logging to `clamav.log` there;
    /// its exit status (1 when it found a virus). No internet for signature updates: a local hash
    /// signature for the EICAR file, named as ClamAV's official one. The path is relative, as an
    /// operator would type it, so ClamAV logs `eicar.com.txt: … FOUND`.
    static func scanEICAR(with clamscan: String, in directory: URL) async throws -> Int32 {
        try "44d88612fea8a8f36de82e1278abb02f:68:Win.Test.EICAR_HDB-1\n".write(to: directory.appendingPathComponent("local.hdb"), atomically: true, encoding: .utf8)
        let scan = Process()
        scan.executableURL = URL(fileURLWithPath: clamscan)
        scan.currentDirectoryURL = directory
        scan.arguments = ["--database=local.hdb", "-l", "clamav.log", "eicar.com.txt"]
        scan.standardOutput = FileHandle.nullDevice
        scan.standardError = FileHandle.nullDevice
        try scan.run()
        await scan.exited()
        return scan.terminationStatus
    }

    @Test func eicarThroughRealClamAVRaisesTheAlertOnlyWhileTheIntegrationIsOn() async throws {
        let clamscan = try #require(Self.clamscan, "ClamAV's clamscan is needed: apt-get install clamav (.ci/run does)")
        let scratch = TemporaryDirectory()
        let directory = scratch.url
        #expect(try await vigil(["integration", "on", "clamav"], in: directory).status == 0)
        let test = try await vigil(["detection-test", "--output", directory.appendingPathComponent("eicar.com.txt").path], in: directory)
        #expect(test.status == 0)
        #expect(try await Self.scanEICAR(with: clamscan, in: directory) == 1, "clamscan exits 1 when it finds a virus")

        let imported = try await vigil(["import", "--integration", "clamav", "--hostname", "av-host", "clamav.log"], in: directory)
        #expect(imported.status == 0, "\(imported.stderr)")
        let alerts = try await vigil(["alerts", "--format", "jsonl", "--machine", "av-host"], in: directory)
        #expect(alerts.stdout.contains("\"title\":\"EICAR test file detected\""))
        #expect(alerts.stdout.contains("\"integration\":\"clamav\""))
        // --verify sees the alert that arrived; a machine that sent nothing times out with exit 1.
        let verified = try await vigil(["detection-test", "--verify", "--machine", "AV-HOST", "--timeout", "30s"], in: directory)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("detection received") && verified.stdout.contains("av-host"))
        let waited = try await vigil(["detection-test", "--verify", "--machine", "quiet-host", "--timeout", "1s"], in: directory)
        #expect(waited.status == 1)
        #expect(waited.stderr.contains("no EICAR alert from quiet-host arrived within 1s"))
        #expect(try await vigil(["detection-test", "--verify", "--since", "0m", "--timeout", "1s"], in: directory).status == 1,
                "evidence from before --since does not count")

        // Off: the same import is refused, nothing new is stored, and the refusal is audited.
        #expect(try await vigil(["integration", "off", "clamav"], in: directory).status == 0)
        let refused = try await vigil(["import", "--integration", "clamav", "--hostname", "other-host", "clamav.log"], in: directory)
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("vigil integration on clamav"))
        #expect(try await vigil(["alerts", "--format", "jsonl", "--machine", "other-host"], in: directory).stdout.isEmpty)
        #expect(try await vigil(["machines", "--format", "csv"], in: directory).stdout.split(separator: "\n").count == 2)
        let audit = try await vigil(["audit", "--action", "ingest.refused", "--format", "jsonl"], in: directory)
        #expect(audit.stdout.split(separator: "\n").count == 1)
        // Data already stored stays queryable; the machine shows inactive.
        #expect(try await vigil(["alerts", "--format", "jsonl", "--machine", "av-host"], in: directory).stdout.contains("EICAR"))
        #expect(try await vigil(["machines", "--format", "jsonl"], in: directory).stdout.contains("\"status\":\"inactive\""))
    }

    @Test func tokenCommandsPrintTheTokenAloneAndNeverAgain() async throws {
        let scratch = TemporaryDirectory()
        let refused = try await vigil(["integration", "token", "santa"], in: scratch.url)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("vigil integration on santa"))
        try await vigil(["integration", "on", "santa"], in: scratch.url)
        let created = try await vigil(["integration", "token", "santa", "--valid-for", "2h"], in: scratch.url)
        #expect(created.status == 0)
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("vgl_") && token.count == 47)
        #expect(created.stderr.contains("valid until"))
        let listed = try await vigil(["integration", "tokens", "santa", "--format", "json"], in: scratch.url)
        #expect(!listed.stdout.contains(token))
        #expect(listed.stdout.contains("\"state\":\"active\""))
        #expect(try await vigil(["integration", "token", "santa", "--valid-for", "91d"], in: scratch.url).status == 64)
        #expect(try await vigil(["integration", "revoke", "santa", "1"], in: scratch.url).status == 0)
        #expect(try await vigil(["integration", "tokens", "santa", "--format", "json"], in: scratch.url).stdout.contains("\"state\":\"revoked\""))
        let database = try Data(contentsOf: scratch.url.appendingPathComponent("vigil.sqlite"))
        #expect(database.range(of: Data(token.utf8)) == nil, "the token itself must never be stored")
    }
}
