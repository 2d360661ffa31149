import Foundation
import Testing
import VigilTooling

/// A correlation alert counts every event of the window that satisfied it and keeps extending
/// while the condition holds; its incident's times follow it. 30 failed sshd logins 5 s apart
/// once gave `event_count 10` and the 10th event's time, and an incident frozen at its creation.
@Suite struct CorrelationCountTests {
    static func failedLogins(_ count: Int, every seconds: Int, from start: Int = 0) -> String {
        (0..<count).map { index in
            let total = start + index * seconds
            let clock = String(format: "10:%02d:%02d", total / 60, total % 60)
            return "Nov 27 \(clock) web-01 sshd[\(1000 + index)]: Failed password for root from 203.0.113.9 port \(40000 + index) ssh2"
        }.joined(separator: "\n") + "\n"
    }

    func importAndList(_ log: String) async throws -> (alerts: [[String: Any]], incidents: [[String: Any]]) {
        let scratch = TemporaryDirectory()
        try await vigil(["integration", "on", "syslog"], in: scratch.url)
        try scratch.write("auth.log", log)
        let imported = try await vigil(["import", "--integration", "syslog", "--rules", "builtin", "auth.log"], in: scratch.url)
        #expect(imported.status == 0, "\(imported.stderr)")
        func rows(_ arguments: [String]) async throws -> [[String: Any]] {
            let result = try await vigil(arguments + ["--format", "json"], in: scratch.url)
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        }
        return (try await rows(["alerts", "--rule", "SSH brute force from one address"]), try await rows(["incidents"]))
    }

    @Test func aBruteForceAlertCountsEveryFailureWhileItGoesOn() async throws {
        let (alerts, incidents) = try await importAndList(Self.failedLogins(30, every: 5))
        #expect(alerts.count == 1)
        #expect(alerts.first?["event_count"] as? Int == 30)
        #expect(alerts.first?["first_event_time"] as? String == "2026-11-27T10:00:00.000Z")
        #expect(alerts.first?["last_event_time"] as? String == "2026-11-27T10:02:25.000Z")
        #expect(incidents.first?["last_event_time"] as? String == "2026-11-27T10:02:25.000Z", "\(incidents)")
    }

    @Test func aFailureAfterTheConditionStoppedHoldingIsNotCounted() async throws {
        // Ten failures fire; one more an hour and a half later is alone in its window.
        let (alerts, _) = try await importAndList(Self.failedLogins(10, every: 5) + Self.failedLogins(1, every: 5, from: 5_400).replacingOccurrences(of: "10:90:00", with: "11:30:00"))
        #expect(alerts.count == 1)
        #expect(alerts.first?["event_count"] as? Int == 10)
    }
}
