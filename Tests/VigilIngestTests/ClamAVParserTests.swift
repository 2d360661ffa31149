import Foundation
import Testing
import VigilTestSupport
import VigilIngest
import VigilModel

/// clamd's `<ctime> -> message` lines, read over bytes: the date's shapes, and a verdict's
/// file name, which may itself hold `: ` (the last one separates the verdict).
@Suite(.runsOn(.busy)) struct ClamAVParserTests {
    @Test(arguments: [
        // line, then time, Filename and Signature ("-" when the line is refused)
        ("Fri Nov 27 20:23:24 2026 -> /srv/a.bin: Win.Test.EICAR_HDB-1 FOUND", "2026-11-27T20:23:24Z|/srv/a.bin|Win.Test.EICAR_HDB-1"),
        ("Sat Nov  7 09:05:01 2026 -> /srv/x: y.bin: Eicar-Sig(44d88612fea8a8f36de82e1278abb02f:68) FOUND", "2026-11-07T09:05:01Z|/srv/x: y.bin|Eicar-Sig"),
        ("Fri Nov 27 20:23:24 2026 -> SelfCheck: Database status OK.", "2026-11-27T20:23:24Z|nil|nil"),
        ("Fri Nov 27 20:23:24 2026 -> /tmp/clean: OK", "2026-11-27T20:23:24Z|/tmp/clean|nil"),
        ("Fri Nov 27 20:23 2026 -> x", "-"),
        ("Fri Nov 27 20::23:24 2026 -> x", "2026-11-27T20:23:24Z|nil|nil"),
        ("Fri Foo 27 20:23:24 2026 -> x", "-"),
        ("Fri Nov 27 20:23:24 2026 extra -> x", "-"),
        ("Fri Nov 27 20:23:24 -> x", "-"),
    ])
    func clamdLine(line: String, expected: String) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-clamav-\(UUID().uuidString).log").path
        try Data((line + "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var stream = try EventStream(path: path, format: .clamav, context: ParserContext(integration: "test"))
        var events: [Event] = []
        try stream.forEachBatch { batch, _ in events += batch }
        let read = events.first.map { event in
            [event.time.iso8601.replacingOccurrences(of: ".000Z", with: "Z"), event.value(of: FieldKey("Filename")) ?? "nil",
             event.value(of: FieldKey("Signature")) ?? "nil"].joined(separator: "|")
        }
        #expect((read ?? "-") == expected)
    }
}
