import Foundation
import Testing
import VigilTooling

/// Vendor findings keep the vendor's words: the alert is titled with the vendor's title (or the
/// threat's name) and rated with the vendor's severity mapped onto Vigil's scale, not all
/// "Antivirus detection", high. EICAR keeps its own title.
@Suite struct VendorWordsTests {
    static let logs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus/logs").standardized

    func alerts(in scratch: TemporaryDirectory) async throws -> [String: String] {
        let listed = try await vigil(["alerts", "--format", "json", "--limit", "1000"], in: scratch.url)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        return Dictionary(rows.map { ($0["title"] as? String ?? "", $0["severity"] as? String ?? "") }, uniquingKeysWith: { first, _ in first })
    }

    @Test func mobileThreatDefenseFindingsKeepTheirTitleAndSeverity() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["integration", "on", "mobile-threat-defense"], in: scratch.url)
        let file = Self.logs.appendingPathComponent("android_ios/azure-sentinel_BetterMTDIncidentLog_CL.json").path
        #expect(try await vigil(["import", "--integration", "mobile-threat-defense", file], in: scratch.url).status == 0)
        let raised = try await alerts(in: scratch)
        #expect(raised["Port scanning detected"] == "medium", "\(raised)")
        #expect(raised["Blacklisted apps detected"] == "high")
        #expect(raised["Device Screen passcode is disabled"] == "low")
        #expect(raised["Antivirus detection"] == nil)
    }

    @Test func cefFindingsKeepTheirNameAndMapTheirNumericSeverity() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["integration", "on", "cef"], in: scratch.url)
        let file = Self.logs.appendingPathComponent("cef_av/azure-sentinel_WithSecure_CEF_first15.txt").path
        #expect(try await vigil(["import", "--integration", "cef", file], in: scratch.url).status == 0)
        let raised = try await alerts(in: scratch)
        // WithSecure's header severity 4 is medium on Vigil's scale.
        #expect(raised["Web Traffic Scanning event"] == "medium", "\(raised)")
        #expect(raised["EICAR test file detected"] == "high")
    }

    @Test func clamAVFindingsAreNamedByTheirThreat() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["integration", "on", "clamav"], in: scratch.url)
        try scratch.write("scan.log", "/tmp/x.bin: Unix.Trojan.Mirai-1 FOUND\n/tmp/eicar.com: Win.Test.EICAR_HDB-1 FOUND\n")
        #expect(try await vigil(["import", "--integration", "clamav", "--hostname", "web-01", "scan.log"], in: scratch.url).status == 0)
        let raised = try await alerts(in: scratch)
        #expect(raised["Antivirus detection: Unix.Trojan.Mirai-1"] == "high", "\(raised)")
        #expect(raised["EICAR test file detected"] == "high")
    }
}
