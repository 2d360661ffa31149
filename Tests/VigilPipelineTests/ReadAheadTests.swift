import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilIngest
import VigilDetection
import VigilModel
import VigilPipeline
import VigilStore

/// Reading ahead on another thread yields exactly what reading in line does, in order.
@Suite(.runsOn(.busy)) struct ReadAheadTests {
    @Test func readAheadYieldsTheSameBatchesInOrder() throws {
        let workspace = TemporaryDirectory()
        let lines = (1...5_000).map { BenchWorkload.sampleRecord(.syslog, number: $0)[0] } + ["not a syslog line"]
        let path = try workspace.write("auth.log", lines.joined(separator: "\n"))
        let context = ParserContext(integration: "test", defaultHostname: "h")

        func reader() throws -> BatchReader {
            try BatchReader(source: ByteSource(path: path), format: .syslog, context: context, ruleSet: .builtin(), batchSize: 64)
        }
        let inline = try reader()
        var expected: [String] = []
        var expectedRejected: [Int] = []
        var records = 0
        try inline.forEachBatch(readingAhead: false) { batch in
            expected += batch.items.map(\.event.raw)
            expectedRejected += batch.rejected.map(\.line)
            records += batch.recordsRead
        }

        let ahead = try reader()
        var seen: [String] = []
        var seenRejected: [Int] = []
        var seenRecords = 0
        try ahead.forEachBatch(readingAhead: true) { batch in
            seen += batch.items.map(\.event.raw)
            seenRejected += batch.rejected.map(\.line)
            seenRecords += batch.recordsRead
        }
        #expect(seen == expected)
        #expect(seen.count == 5_000)
        #expect(seenRejected == expectedRejected)
        #expect(seenRecords == records)
        #expect(ahead.skippedRecords == inline.skippedRecords)
    }

    /// A hunt's reader hands on only the events some rule matched, in order, and still counts
    /// every event: on a stateless format (dropped by the workers that parsed them) and on
    /// auditd (carried in the batch for its consumer to free), with framing, parsing and
    /// detection ahead.
    @Test(arguments: [SourceFormat.json, .auditd]) func aHuntsReaderHandsOnOnlyMatchedEventsAndCountsAll(format: SourceFormat) throws {
        let workspace = TemporaryDirectory()
        // Every 100th workload record is one the default rules detect.
        let lines = (1...3_000).flatMap { BenchWorkload.sampleRecord(format, number: $0) } + ["not a record"]
        let path = try workspace.write("input.log", lines.joined(separator: "\n"))
        let ruleSet = RuleSet.defaultRules()
        func read(_ use: BatchReader.Use) throws -> (items: [BatchItem], parsed: Int, rejected: [Int]) {
            let reader = try BatchReader(source: ByteSource(path: path), format: format, context: ParserContext(integration: "test", defaultHostname: "h"),
                                         ruleSet: ruleSet, batchSize: 500, use: use)
            var items: [BatchItem] = [], parsed = 0, rejected: [Int] = []
            try reader.forEachBatch(parsingAhead: use == .hunting) { batch in
                items += batch.items
                parsed += batch.eventsParsed
                rejected += batch.rejected.map(\.line)
            }
            return (items, parsed, rejected)
        }
        let stored = try read(.storing), hunted = try read(.hunting)
        let matched = stored.items.filter { !$0.detections.isEmpty }
        #expect(stored.parsed == stored.items.count && stored.parsed >= 3_000)
        #expect(matched.count >= 30 && matched.count < stored.items.count / 10)
        #expect(hunted.parsed == stored.parsed)
        #expect(hunted.items.map(\.event.line) == matched.map(\.event.line))
        #expect(hunted.items.map { $0.detections.map(\.rule.id) } == matched.map { $0.detections.map(\.rule.id) })
        #expect(hunted.items.allSatisfy { $0.key != nil && $0.fieldsJSON == nil })
        #expect(hunted.rejected == stored.rejected)
    }

    @Test func aFailureInTheBodyStopsCleanly() throws {
        struct Stop: Error {}
        let workspace = TemporaryDirectory()
        let path = try workspace.write("auth.log", (1...2_000).map { BenchWorkload.sampleRecord(.syslog, number: $0)[0] }.joined(separator: "\n"))
        var batches = 0
        #expect(throws: Stop.self) {
            let reader = try BatchReader(source: ByteSource(path: path), format: .syslog, context: ParserContext(integration: "test"),
                                         ruleSet: .builtin(), batchSize: 16)
            try reader.forEachBatch(readingAhead: true) { _ in
                batches += 1
                if batches == 3 { throw Stop() }
            }
        }
        #expect(batches == 3)
    }
}
