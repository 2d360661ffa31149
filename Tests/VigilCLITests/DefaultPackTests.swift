import Foundation
import Testing
import VigilTooling

/// Detection out of the box: with no `--rules`, Vigil loads the `default` pack (its own rules
/// and SigmaHQ's Linux and macOS rules, vendored and embedded), so a plain import of auditd
/// logs raises SigmaHQ alerts that keep their rule's author.
@Suite struct DefaultPackTests {
    static let auditdLogs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/corpus/logs/auditd/crowdsec").standardized

    @Test func aPlainImportOfAuditdLogsRaisesSigmaHQAlerts() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "auditd"], in: scratch.url)
        let logs = try FileManager.default.contentsOfDirectory(atPath: Self.auditdLogs.path).filter { $0.hasSuffix(".log") }
            .map { Self.auditdLogs.appendingPathComponent($0).path }
        let imported = try await vigil(["import", "--integration", "auditd"] + logs, in: scratch.url)
        #expect(imported.status == 0, "\(imported.stderr)")
        let alerts = try await vigil(["alerts", "--format", "json"], in: scratch.url)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(alerts.stdout.utf8)) as? [[String: Any]])
        #expect(!rows.isEmpty, "the default pack raised nothing on the auditd corpus")
        let first = try #require(rows.first?["id"] as? Int)
        let shown = try await vigil(["alert", "show", String(first), "--format", "json"], in: scratch.url)
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let alert = detail["alert"] as? [String: Any] ?? detail
        #expect((alert["author"] as? String)?.isEmpty == false, "a SigmaHQ alert keeps its rule's author (DRL 1.1): \(shown.stdout.prefix(400))")
        // The built-in pack alone has no rule for these records.
        let builtinOnly = TemporaryDirectory()
        try await vigil(["init"], in: builtinOnly.url)
        try await vigil(["integration", "on", "auditd"], in: builtinOnly.url)
        try await vigil(["import", "--integration", "auditd", "--rules", "builtin"] + logs, in: builtinOnly.url)
        #expect(try await vigil(["alerts", "--format", "json"], in: builtinOnly.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func rulesListShowsEveryLoadedRuleCorrelationsIncluded() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        let listed = try await vigil(["rules", "list", "--format", "json"], in: scratch.url)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let checked = try await vigil(["rules", "check", "--quiet", "default"], in: scratch.url)
        let total = try #require(checked.stdout.split(separator: "\n").last.flatMap { Int($0.split(separator: " ")[0]) })
        #expect(rows.count == total)
        #expect(rows.contains { ($0["type"] as? String)?.hasPrefix("correlation:") == true })
        #expect(rows.contains { ($0["file"] as? String)?.hasPrefix("sigmahq:rules/macos/") == true })
    }
}
