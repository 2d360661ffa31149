import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilIngest
import VigilDetection
import VigilModel
import VigilPipeline

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
