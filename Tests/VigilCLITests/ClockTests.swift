import Foundation
import Testing
import VigilTooling

/// One event with a wild clock, through any integration, leaves every other alert unchanged.
@Suite struct ClockTests {
    /// Ten failed sshd logins from one address, 5 s apart: the brute-force correlation fires.
    static let bruteForce = (0..<10).map { index in
        String(format: "Mar  3 10:00:%02d web-01 sshd[%d]: Failed password for root from 203.0.113.5 port %d ssh2", index * 5, 1000 + index, 40000 + index)
    }

    static func alertPairs(_ scratch: TemporaryDirectory) async throws -> [String] {
        let result = try await vigil(["alerts", "--format", "json"], in: scratch.url)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        return rows.map { "\($0["hostname"] as? String ?? "") \($0["title"] as? String ?? "") \($0["event_count"] as? Int ?? 0)" }.sorted()
    }

    @Test func aWildTimestampIsFlaggedAndLeavesCorrelationWorking() async throws {
        let wild = "9999-12-31T23:59:59Z db-01 sshd[1]: Failed password for root from 203.0.113.5 port 1 ssh2"
        var expected: [String]?
        // Without the wild event, then with it first (in its own earlier import), in the middle and last.
        for placement in ["none", "earlier import", "middle", "last"] {
            let scratch = TemporaryDirectory()
            try await vigil(["integration", "on", "syslog"], in: scratch.url)
            var lines = Self.bruteForce
            switch placement {
            case "earlier import":
                try scratch.write("wild.log", wild + "\n")
                let first = try await vigil(["import", "--integration", "syslog", "--format", "syslog", "--json", "wild.log"], in: scratch.url)
                #expect(first.stdout.contains("\"future_dated\":1"), "\(first.stdout)")
            case "middle": lines.insert(wild, at: 5)
            case "last": lines.append(wild)
            default: break
            }
            try scratch.write("auth.log", lines.joined(separator: "\n") + "\n")
            let imported = try await vigil(["import", "--integration", "syslog", "--format", "syslog", "auth.log"], in: scratch.url)
            #expect(imported.status == 0, "\(imported.stderr)")
            if placement == "middle" || placement == "last" {
                #expect(imported.stdout.contains("future-dated      1"), "\(imported.stdout)")
            }
            let pairs = try await Self.alertPairs(scratch).filter { !$0.hasPrefix("db-01") }
            if let expected {
                #expect(pairs == expected, "with the wild event \(placement)")
            } else {
                #expect(pairs.contains { $0.contains("SSH brute force from one address") })
                expected = pairs
            }
        }
    }
}

/// `vigil hunt` runs correlation rules as `vigil import` does.
@Suite struct HuntCorrelationTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus/logs/syslog_auth/crowdsec").standardized

    @Test(arguments: ["ssh-slow-bf_ssh-slow-bf.log", "ssh-bf_ssh-bf.log", "sshd-invalid-bf_sshd-invalid-bf.log", "sshd-logs_sshd-logs.log"])
    func huntRaisesWhatImportRaises(file: String) async throws {
        let path = Self.corpus.appendingPathComponent(file).path
        let scratch = TemporaryDirectory()
        let hunted = try await vigil(["hunt", "--rules", "builtin", "--format", "syslog", "--output-format", "jsonl", path], in: scratch.url)
        #expect(hunted.status == 0, "\(hunted.stderr)")
        let huntPairs = Set(hunted.stdout.split(separator: "\n").compactMap { line -> String? in
            guard let row = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return "\(row["hostname"] as? String ?? "") \(row["title"] as? String ?? "")"
        })
        try await vigil(["integration", "on", "syslog"], in: scratch.url)
        let imported = try await vigil(["import", "--integration", "syslog", "--format", "syslog", "--rules", "builtin", path], in: scratch.url)
        #expect(imported.status == 0, "\(imported.stderr)")
        let alerts = try await vigil(["alerts", "--format", "json"], in: scratch.url)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(alerts.stdout.utf8)) as? [[String: Any]])
        let importPairs = Set(rows.map { "\($0["hostname"] as? String ?? "") \($0["title"] as? String ?? "")" })
        #expect(huntPairs == importPairs)
        if file == "ssh-slow-bf_ssh-slow-bf.log" {
            #expect(huntPairs.contains { $0.hasSuffix("SSH brute force from one address") }, "\(huntPairs)")
        }
    }
}
