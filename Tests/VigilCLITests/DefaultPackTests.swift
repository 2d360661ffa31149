import Foundation
import Testing
import VigilTooling

/// Detection out of the box: with no `--rules`, Vigil loads the `default` pack (its own rules
/// and SigmaHQ's Linux and macOS rules, vendored and embedded), so a plain import of auditd
/// logs raises SigmaHQ alerts that keep their rule's author.
@Suite struct DefaultPackTests {
    static let auditdLogs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/corpus/logs/auditd/crowdsec").standardized

    @Test func aPlainImportOfAuditdLogsRaisesSigmaHQAlerts() throws {
        let scratch = TemporaryDirectory()
        try vigil(["init"], in: scratch.url)
        try vigil(["integration", "on", "auditd"], in: scratch.url)
        let logs = try FileManager.default.contentsOfDirectory(atPath: Self.auditdLogs.path).filter { $0.hasSuffix(".log") }
            .map { Self.auditdLogs.appendingPathComponent($0).path }
        let imported = try vigil(["import", "--integration", "auditd"] + logs, in: scratch.url)
        #expect(imported.status == 0, "\(imported.stderr)")
        let alerts = try vigil(["alerts", "--format", "json"], in: scratch.url)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(alerts.stdout.utf8)) as? [[String: Any]])
        #expect(!rows.isEmpty, "the default pack raised nothing on the auditd corpus")
        let first = try #require(rows.first?["id"] as? Int)
        let shown = try vigil(["alert", "show", String(first), "--format", "json"], in: scratch.url)
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let alert = detail["alert"] as? [String: Any] ?? detail
        #expect((alert["author"] as? String)?.isEmpty == false, "a SigmaHQ alert keeps its rule's author (DRL 1.1): \(shown.stdout.prefix(400))")
        // The built-in pack alone has no rule for these records.
        let builtinOnly = TemporaryDirectory()
        try vigil(["init"], in: builtinOnly.url)
        try vigil(["integration", "on", "auditd"], in: builtinOnly.url)
        try vigil(["import", "--integration", "auditd", "--rules", "builtin"] + logs, in: builtinOnly.url)
        #expect(try vigil(["alerts", "--format", "json"], in: builtinOnly.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func rulesListShowsEveryLoadedRuleCorrelationsIncluded() throws {
        let scratch = TemporaryDirectory()
        try vigil(["init"], in: scratch.url)
        let listed = try vigil(["rules", "list", "--format", "json"], in: scratch.url)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let checked = try vigil(["rules", "check", "--quiet", "default"], in: scratch.url)
        let total = try #require(checked.stdout.split(separator: "\n").last.flatMap { Int($0.split(separator: " ")[0]) })
        #expect(rows.count == total)
        #expect(rows.contains { ($0["type"] as? String)?.hasPrefix("correlation:") == true })
        #expect(rows.contains { ($0["file"] as? String)?.hasPrefix("sigmahq:rules/macos/") == true })
    }
}
