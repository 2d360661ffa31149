#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import Testing
import VigilTooling

/// Crafted numbers in times: the process must reject or bound them, never trap (exit 132).
@Suite struct HostileNumberTests {
    /// One CEF line per crafted time, with a well-formed line before and after.
    static let cefLines = [
        "CEF:0|Acme|AV|1.0|100|Malware found|8|rt=Nov 27 2026 10:00:00.123 dhost=good-before",
        "CEF:0|Acme|AV|1.0|100|Malware found|8|rt=Nov 27 2026 10:00:00.9223372036854775807 dhost=fraction",
        "CEF:0|Acme|AV|1.0|100|Malware found|8|rt=Nov 27 9223372036854775807 10:00:00 dhost=year",
        "CEF:0|Acme|AV|1.0|100|Malware found|8|rt=Nov 9223372036854775807 2026 10:00:00 dhost=day",
        "CEF:0|Acme|AV|1.0|100|Malware found|8|rt=Nov 27 2026 9223372036854775807:00:00 dhost=hour",
        "CEF:0|Acme|AV|1.0|100|Malware found|8|rt=99999999999999999999999 dhost=epoch",
        "CEF:0|Acme|AV|1.0|100|Malware found|8|rt=2026-11-27T10:00:00.99999999999999999999999+99:99 dhost=iso",
        "CEF:0|Acme|AV|1.0|100|Malware found|8|rt=Nov 27 2026 10:00:00 dhost=good-after",
    ].joined(separator: "\n") + "\n"

    @Test func importAndHuntSurviveCraftedCEFTimes() async throws {
        let scratch = TemporaryDirectory()
        try scratch.write("av.cef", Self.cefLines)
        try await vigil(["integration", "on", "cef"], in: scratch.url)
        let imported = try await vigil(["import", "--integration", "cef", "--format", "cef", "--json", "av.cef"], in: scratch.url)
        #expect(imported.status == 0, "import exited \(imported.status): \(imported.stderr)")
        #expect(imported.stdout.contains("\"records_read\":8"))
        let hunted = try await vigil(["hunt", "--format", "cef", "--output-format", "jsonl", "av.cef"], in: scratch.url)
        #expect(hunted.status == 0, "hunt exited \(hunted.status): \(hunted.stderr)")
    }

    @Test func theServerSurvivesACraftedCEFPush() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "cef")
        defer { server.stop() }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/api/v1/ingest?format=cef&hostname=av-01")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(server.token)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(Self.cefLines.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(String(decoding: data, as: UTF8.self))")
        #expect(server.process.isRunning)
        #expect(try await ReliabilityTests.waitForHealth(port: server.port))
    }
}
