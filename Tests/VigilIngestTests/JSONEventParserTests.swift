import Foundation
import Testing
import VigilTestSupport
import VigilIngest
import VigilModel

/// Frames and parses `input` as the import pipeline does.
func parseJSON(_ input: String, gzip: Bool = false) throws -> (events: [Event], rejected: [RejectedRecord]) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-test-\(UUID().uuidString).json").path
    try Data(input.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try parseFile(path)
}

func parseFile(_ path: String, format: SourceFormat = .json) throws -> (events: [Event], rejected: [RejectedRecord]) {
    var stream = try EventStream(path: path, format: format, context: ParserContext(integration: "test"))
    var events: [Event] = []
    var rejected: [RejectedRecord] = []
    // Small batches, so records cross batch boundaries.
    try stream.forEachBatch(limit: 3) { events += $0; rejected += $1 }
    return (events, rejected)
}

@Suite(.runsOn(.busy)) struct JSONEventParserTests {
    @Test func readsEnvelopeAndFlattensNestedKeys() throws {
        let line = #"{"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"web-01","os":{"platform":"ubuntu","version":"22.04"}},"process":{"command_line":"ls -la","args":["ls","-la"]},"CommandLine":"ls -la","pid":42,"ok":true,"gone":null,"logsource":{"category":"process_creation"}}"#
        let (events, rejected) = try parseJSON(line + "\n")
        #expect(rejected.isEmpty)
        let event = try #require(events.first)
        #expect(event.time == Timestamp(parsing: "2026-11-27T10:00:00Z"))
        #expect(event.machine == MachineIdentity(hostname: "web-01", platform: .linux, osVersion: "22.04"))
        #expect(event.logSource == LogSource(product: "linux", category: "process_creation"))
        #expect(event.value(of: FieldKey("process.command_line")) == "ls -la")
        #expect(event.fields.filter { $0.key == FieldKey("process.args") }.map(\.value) == ["ls", "-la"])
        #expect(event.value(of: FieldKey("pid")) == "42")
        #expect(event.value(of: FieldKey("ok")) == "true")
        #expect(event.value(of: FieldKey("gone")) == nil)
        #expect(event.value(of: FieldKey("logsource.category")) == nil)
        #expect(event.raw == line)
    }

    /// Each record's fields are reserved at the size of the record before, but never more than a
    /// bound: after a record of a thousand fields, a small record does not hold a thousand slots.
    @Test func aHugeRecordDoesNotSizeTheNext() throws {
        let huge = "{" + (0..<1_000).map { #""f\#($0)":"v""# }.joined(separator: ",") + "}"
        let small = #"{"a":"1","b":"2"}"#
        let (events, rejected) = try parseJSON([huge, small, small].joined(separator: "\n") + "\n")
        #expect(rejected.isEmpty)
        #expect(events.count == 3)
        #expect(events[0].fields.count > 1_000)
        // The bound is 64; the allocator may round a reservation up by a slot or a few.
        #expect(events[1].fields.capacity < 128)
        #expect(events[1].fields.prefix(2).map(\.value) == ["1", "2"])
    }

    @Test func decodesEscapes() throws {
        let (events, _) = try parseJSON(#"{"a":"tab\there \"q\" \u00e9 \ud83d\ude00 \/"}"# + "\n")
        #expect(events.first?.value(of: FieldKey("a")) == "tab\there \"q\" é 😀 /")
    }

    /// Keys are decoded like values: a name with escapes is the name they spell, and a key
    /// without escapes goes into the path as its bytes.
    @Test func decodesEscapesInKeys() throws {
        let (events, rejected) = try parseJSON(#"{"a\u0062c":{"d\"e":1,"plain":"x","\u00e9t\u00e9":true},"n\/m":[1,2]}"# + "\n")
        #expect(rejected.isEmpty)
        let event = try #require(events.first)
        #expect(event.value(of: FieldKey("abc.d\"e")) == "1")
        #expect(event.value(of: FieldKey("abc.plain")) == "x")
        #expect(event.value(of: FieldKey("abc.été")) == "true")
        #expect(event.fields.filter { $0.key == FieldKey("n/m") }.map(\.value) == ["1", "2"])
    }

    @Test func malformedLinesAreRejectedWithLineNumbersAndGoodLinesLand() throws {
        let input = """
            {"n":1}
            {"n":2
            not json
            {"n":3}
            [1,2]
            {"n":"unterminated}
            {"n":4} trailing
            {"n":5}
            """
        let (events, rejected) = try parseJSON(input)
        #expect(events.compactMap { $0.value(of: FieldKey("n")) } == ["1", "3", "5"])
        #expect(rejected.map(\.line) == [2, 3, 5, 6, 7])
        #expect(rejected.allSatisfy { $0.reason.hasPrefix("invalid JSON at byte") })
    }

    @Test func emptyLinesAndCRLFAreHandled() throws {
        let (events, rejected) = try parseJSON("{\"n\":1}\r\n\r\n   \n{\"n\":2}\r\n")
        #expect(rejected.isEmpty)
        #expect(events.map(\.line) == [1, 4])
        #expect(events.map(\.raw) == ["{\"n\":1}", "{\"n\":2}"])
    }

    @Test func invalidUTF8IsRejectedAndTheRestLands() throws {
        var bytes = Array("{\"n\":1}\n{\"n\":\"".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\"}\n{\"n\":3}\n".utf8)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-utf8-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (events, rejected) = try parseFile(path)
        #expect(events.count == 2)
        #expect(rejected.count == 1)
        #expect(rejected.first?.line == 2)
        #expect(rejected.first?.reason == "invalid UTF-8 at byte 7")
    }

    @Test func truncatedFinalLineIsRejected() throws {
        let (events, rejected) = try parseJSON("{\"n\":1}\n{\"n\":")
        #expect(events.count == 1)
        #expect(rejected.map(\.line) == [2])
    }

    @Test func readsAJSONArrayWithElementLineNumbers() throws {
        let input = "[\n  {\"n\":1},\n  {\"n\":\"a,]}\"},\n  {\"n\":{\"x\":[3]}}\n]\n"
        let (events, rejected) = try parseJSON(input)
        #expect(rejected.isEmpty)
        #expect(events.map(\.line) == [2, 3, 4])
        #expect(events[1].value(of: FieldKey("n")) == "a,]}")
        #expect(events[2].value(of: FieldKey("n.x")) == "3")
    }

    @Test func aJSONArrayElementMayHoldEscapedQuotesBracesAndBrackets() throws {
        let input = #"[{"msg":"5\" pipe","n":1},{"msg":"plain","n":2},{"msg":"\"}],[{\\","n":3},{"msg":"\\\"","n":4}]"#
        let (events, rejected) = try parseJSON(input)
        #expect(rejected.isEmpty, "\(rejected.map(\.reason))")
        #expect(events.map { $0.value(of: FieldKey("msg")) } == ["5\" pipe", "plain", "\"}],[{\\", "\\\""])
        #expect(events.map { $0.value(of: FieldKey("n")) } == ["1", "2", "3", "4"])
    }

    @Test func readsGzip() throws {
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-gz-\(UUID().uuidString).json").path
        try Data((0..<5000).map { "{\"n\":\($0)}\n" }.joined().utf8).write(to: URL(fileURLWithPath: plain))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-f", plain]
        try gzip.run()
        gzip.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: plain + ".gz") }
        let (events, rejected) = try parseFile(plain + ".gz")
        #expect(rejected.isEmpty)
        #expect(events.count == 5000)
        #expect(events.last?.value(of: FieldKey("n")) == "4999")
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: IngestError.self) { try ByteSource(path: "/nonexistent/vigil.json") }
    }

    /// A result's query name picks its Sigma category and column names by a fragment it
    /// contains anywhere (`pack_…_process_events`); other queries stay plain osquery results.
    @Test func osqueryQueryNamesPickTheirCategory() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-osquery-\(UUID().uuidString).json").path
        let lines = [
            #"{"name":"pack_incident_process_events","hostIdentifier":"h","unixTime":1514472008,"columns":{"path":"/bin/sh","cmdline":"sh -c id"}}"#,
            #"{"name":"socket_events_watch","hostIdentifier":"h","unixTime":1514472008,"columns":{"remote_address":"10.0.0.9"}}"#,
            #"{"name":"pack_users","hostIdentifier":"h","unixTime":1514472008,"columns":{"username":"root"}}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (events, rejected) = try parseFile(path, format: .osquery)
        #expect(rejected.isEmpty)
        #expect(events.map { $0.logSource.category ?? $0.logSource.service ?? "-" } == ["process_creation", "network_connection", "osquery"])
        #expect(events.first?.value(of: FieldKey("Image")) == "/bin/sh")
        #expect(events.first?.value(of: FieldKey("CommandLine")) == "sh -c id")
        #expect(events.dropFirst().first?.value(of: FieldKey("DestinationIp")) == "10.0.0.9")
    }
}

@Suite(.runsOn(.busy)) struct IngestGateTests {
    @Test func admitsOnlyAnEnabledIntegrationForItsFormats() throws {
        let on = IngestGate.IntegrationState(name: "clamav", enabled: true, formats: ["clamav"])
        try IngestGate.admit(on, named: "clamav", format: "clamav")
        #expect(throws: IngestGate.Refusal.formatNotSent(integration: "clamav", format: "json", sends: ["clamav"])) {
            try IngestGate.admit(on, named: "clamav", format: "json")
        }
        var off = on
        off.enabled = false
        #expect(throws: IngestGate.Refusal.integrationOff("clamav")) { try IngestGate.admit(off, named: "clamav", format: "clamav") }
        #expect(throws: IngestGate.Refusal.unknownIntegration("nope")) { try IngestGate.admit(nil, named: "nope", format: "json") }
    }
}

@Suite(.runsOn(.busy)) struct FramerBoundaryTests {
    @Test func aRecordSplitAcrossTheReadBufferBoundaryIsWhole() throws {
        // Filler lines up to just before the 1 MiB read chunk, then a record that spans it.
        var text = ""
        let filler = #"{"n":"filler-line-padding-padding-padding-padding-padding-padding"}"# + "\n"
        while text.utf8.count + filler.utf8.count < (1 << 20) - 40 { text += filler }
        let fillerCount = text.split(separator: "\n").count
        let long = #"{"n":"spanning","blob":"\#(String(repeating: "x", count: 5_000))"}"#
        text += long + "\n" + #"{"n":"after"}"# + "\n"
        let (events, rejected) = try parseJSON(text)
        #expect(rejected.isEmpty)
        #expect(events.count == fillerCount + 2)
        let spanning = try #require(events.first { $0.value(of: FieldKey("n")) == "spanning" })
        #expect(spanning.raw == long)
        #expect(spanning.line == fillerCount + 1)
        #expect(events.last?.value(of: FieldKey("n")) == "after")
    }

    @Test func wrongValueTypesAreKeptAsTextOrRejectedWithAReason() throws {
        // osquery with a numeric unixTime parses; a non-numeric one is rejected with why.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-types-\(UUID().uuidString).json").path
        try Data((#"{"name":"q","hostIdentifier":"h","unixTime":1514472008,"columns":{"pid":42}}"# + "\n" +
                  #"{"name":"q","hostIdentifier":"h","unixTime":"yesterday","columns":{}}"# + "\n").utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (events, rejected) = try parseFile(path, format: .osquery)
        #expect(events.count == 1)
        #expect(events.first?.value(of: FieldKey("pid")) == "42")
        #expect(rejected.first?.reason.contains("unixTime") == true)
    }
}
