import Foundation
import Testing
import VigilTestSupport
import VigilIngest
import VigilModel

/// The event XML of Sysmon for Linux, read over bytes: entities, empty values, the message's
/// own bounds, and each way a line is refused.
@Suite(.runsOn(.busy)) struct SysmonLinuxParserTests {
    private func parse(_ lines: [String]) throws -> (events: [Event], rejected: [RejectedRecord]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-sysmon-\(UUID().uuidString).log").path
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try parseFile(path, format: .sysmonLinux)
    }

    @Test func dataElementsBecomeFieldsWithEntitiesDecoded() throws {
        let line = "Oct 24 17:05:38 syslog-host sysmon: <Event><System><EventID>1</EventID>"
            + "<TimeCreated SystemTime=\"2026-10-24T17:05:38.123456Z\"/><Computer>web-1</Computer></System><EventData>"
            + "<Data Name=\"Image\">/usr/bin/curl</Data><Data Name=\"ParentImage\"/>"
            + "<Data Name=\"CommandLine\">curl -d 'a=1&amp;b=&lt;2&gt;' &quot;x&quot; &#233;</Data>"
            + "<Data Name=\"User\">root</Data></EventData></Event>"
        let (events, rejected) = try parse([line])
        #expect(rejected.isEmpty)
        let event = try #require(events.first)
        #expect(event.logSource == LogSource(product: "linux", category: "process_creation"))
        #expect(event.machine.hostname == "web-1")
        #expect(event.time == Timestamp(parsing: "2026-10-24T17:05:38.123456Z"))
        #expect(event.fields.map { "\($0.key.name)=\($0.value)" }
                == ["EventID=1", "Computer=web-1", "Image=/usr/bin/curl", "CommandLine=curl -d 'a=1&b=<2>' \"x\" é", "User=root"])
    }

    @Test func eachBrokenLineIsRefusedWithItsReasonAndTheRestLand() throws {
        let good = "Oct 24 17:05:38 host sysmon: <Event><System><EventID>3</EventID></System></Event>"
        let (events, rejected) = try parse([
            "Oct 24 17:05:38 host sysmon: <Event><System><EventID>1</EventID>",
            "Oct 24 17:05:38 host sysmon: <Event><System></System></Event>",
            "Oct 24 17:05:38 host sshd[1]: Accepted password for root",
            "Oct 24 17:05:38 host sysmon: Sysmon started.",
            "Oct 24 17:05:38 h<Event> sshd: no event in the message",
            good,
        ])
        #expect(events.map(\.logSource.category) == ["network_connection"])
        #expect(rejected.map(\.reason) == [
            "the Sysmon event XML is truncated (no </Event>)",
            "the Sysmon event has no EventID",
            "a syslog line from 'sshd', not a Sysmon event",
            "a syslog line from 'sshd', not a Sysmon event",
        ])
    }
}
