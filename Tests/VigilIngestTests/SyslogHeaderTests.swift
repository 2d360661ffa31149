import Foundation
import Testing
import VigilTestSupport
import VigilIngest
import VigilModel

/// Syslog line headers, read over bytes: each shape the header takes and each way it is refused.
@Suite(.runsOn(.busy)) struct SyslogHeaderTests {
    @Test(arguments: [
        // line, then time, host, program, pid and message ("-" when refused)
        ("<13>Oct 24 17:05:31 web-1 sshd[412]: Accepted password", "2026-10-24T17:05:31Z|web-1|sshd|412|Accepted password"),
        ("Nov  2 15:40:14 h cron:   spaces before", "2026-11-02T15:40:14Z|h|cron|nil|spaces before"),
        ("2026-11-27T10:00:00+01:00 h-1 app[]: iso", "2026-11-27T09:00:00Z|h-1|app||iso"),
        ("Oct 24 17:05:31  host prog: a second space leaves the host empty, and a tag with a space", "-"),
        ("Dec  7 14:53:04 host sudo: the year before, when the stamp would be ahead", "2025-12-07T14:53:04Z|host|sudo|nil|the year before, when the stamp would be ahead"),
        ("Oct 24 17:05:31 host prog[1]: é ünïcode", "2026-10-24T17:05:31Z|host|prog|1|é ünïcode"),
        ("<3a>Oct 24 17:05:31 host prog: m", "-"),
        ("Foo 24 17:05:31 host prog: m", "-"),
        ("Oct 24 17:05 host prog: m", "-"),
        ("Oct 24 17:05:31 host a tag: m", "-"),
        ("Oct 24 17:05:31 host no colon", "-"),
    ])
    func header(line: String, expected: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-syslog-\(UUID().uuidString).log").path
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Dated relative to the day the year rule is tested against (the classic stamp has no year).
        let now = try #require(Timestamp(parsing: "2026-12-03T10:00:00Z"))
        var stream = try EventStream(path: path, format: .syslog, context: ParserContext(integration: "test", now: now))
        var events: [Event] = []
        try stream.forEachBatch { batch, _ in events += batch }
        let read = events.first.map { event in
            [event.time.iso8601.replacingOccurrences(of: ".000Z", with: "Z"), event.machine.hostname,
             event.value(of: FieldKey("program")) ?? "?", event.value(of: FieldKey("pid")) ?? "nil", event.value(of: FieldKey("message")) ?? "?"]
                .joined(separator: "|")
        }
        #expect((read ?? "-") == expected)
    }
}
