import Foundation
import Testing
import VigilTooling

/// `vigil rules add`: rules stored in the database, versioned and audited, used by import
/// without --rules, overridden by --rules for one run, turned off with `rules disable`.
@Suite struct StoredRulesTests {
    static func rule(matching word: String, title: String = "Staging tool seen") -> String {
        """
        title: \(title)
        id: 6f1e1c3a-5b7d-4c2e-9a51-7d0c3b2a1e90
        status: experimental
        level: high
        logsource: {product: linux, category: process_creation}
        detection:
          selection: {CommandLine|contains: '\(word)'}
          condition: selection
        """
    }

    static let events = [
        #"{"@timestamp":"2026-11-27T10:00:00Z","hostname":"web-01","logsource":{"category":"process_creation","product":"linux"},"Image":"/usr/bin/stager","CommandLine":"stager --fetch payload"}"#,
        #"{"@timestamp":"2026-11-27T10:00:05Z","hostname":"web-01","logsource":{"category":"process_creation","product":"linux"},"Image":"/usr/bin/dropper","CommandLine":"dropper --install"}"#,
    ].joined(separator: "\n")

    func titles(_ scratch: TemporaryDirectory) async throws -> [String] {
        let alerts = try await vigil(["alerts", "--format", "json"], in: scratch.url)
        let rows = try JSONSerialization.jsonObject(with: Data(alerts.stdout.utf8)) as? [[String: Any]] ?? []
        return rows.compactMap { $0["title"] as? String }.sorted()
    }

    @Test func storedRulesAreVersionedAuditedAndUsedByImportUntilOverridden() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("rules"), withIntermediateDirectories: true)
        try scratch.write("rules/stager.yml", Self.rule(matching: "stager"))
        try scratch.write("rules/broken.yml", "title: no detection\nid: 1\nlogsource: {product: linux}\n")

        let added = try await vigil(["rules", "add", "rules"], in: scratch.url)
        #expect(added.status == 1, "the broken file makes it 1")
        #expect(added.stdout.contains("Staging tool seen: stored as version 1"), "\(added.stdout)")
        #expect(added.stderr.contains("broken.yml: not stored:"), "\(added.stderr)")
        let again = try await vigil(["rules", "add", "rules/stager.yml"], in: scratch.url)
        #expect(again.status == 0 && again.stdout.contains("unchanged, still version 1"))

        try scratch.write("one.ndjson", Self.events)
        #expect(try await vigil(["import", "--integration", "json", "one.ndjson"], in: scratch.url).status == 0)
        #expect(try await titles(scratch).contains("Staging tool seen"), "import uses the stored rule without --rules")

        // A new version replaces the old one for the next import; history and the audit log say who and when.
        try scratch.write("rules/stager.yml", Self.rule(matching: "dropper", title: "Dropper seen"))
        #expect(try await vigil(["rules", "add", "rules/stager.yml"], in: scratch.url).stdout.contains("Dropper seen: stored as version 2"))
        let history = try await vigil(["rules", "history", "6f1e1c3a-5b7d-4c2e-9a51-7d0c3b2a1e90", "--format", "json"], in: scratch.url)
        let versions = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(versions.compactMap { $0["version"] as? Int } == [2, 1])
        #expect(versions.allSatisfy { ($0["source"] as? String)?.hasSuffix("rules/stager.yml") == true && $0["actor"] as? String != nil })
        let audit = try await vigil(["audit", "--format", "json"], in: scratch.url).stdout
        #expect(audit.contains("rule.store") && audit.contains("version 2 from"), "\(audit.prefix(400))")
        let listed = try await vigil(["rules", "list", "--format", "json"], in: scratch.url).stdout
        #expect(listed.contains("stored:6f1e1c3a-5b7d-4c2e-9a51-7d0c3b2a1e90@v2"))

        try scratch.write("two.ndjson", Self.events.replacingOccurrences(of: "2026-11-27T10", with: "2026-11-28T10"))
        #expect(try await vigil(["import", "--integration", "json", "two.ndjson"], in: scratch.url).status == 0)
        #expect(try await titles(scratch).contains("Dropper seen"))

        // --rules overrides the stored rules for one run; `rules disable` turns the stored rule off.
        try scratch.write("three.ndjson", Self.events.replacingOccurrences(of: "2026-11-27T10", with: "2026-11-29T10"))
        #expect(try await vigil(["import", "--integration", "json", "--rules", "builtin", "three.ndjson"], in: scratch.url).status == 0)
        #expect(try await vigil(["rules", "disable", "6f1e1c3a-5b7d-4c2e-9a51-7d0c3b2a1e90"], in: scratch.url).status == 0)
        try scratch.write("four.ndjson", Self.events.replacingOccurrences(of: "2026-11-27T10", with: "2026-11-30T10"))
        #expect(try await vigil(["import", "--integration", "json", "four.ndjson"], in: scratch.url).status == 0)
        let dropperAlerts = try await vigil(["alerts", "--rule", "Dropper seen", "--format", "json"], in: scratch.url)
        let rows = try JSONSerialization.jsonObject(with: Data(dropperAlerts.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.compactMap { $0["event_count"] as? Int }.reduce(0, +) == 1, "only the import of two.ndjson ran the stored version 2")
    }
}
