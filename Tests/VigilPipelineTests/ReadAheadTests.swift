import Foundation
import Testing
import VigilTooling
import VigilIngest
import VigilModel
import VigilPipeline

/// Reading ahead on another thread yields exactly what reading in line does, in order.
@Suite struct ReadAheadTests {
    @Test func readAheadYieldsTheSameBatchesInOrder() throws {
        let workspace = Workspace()
        let lines = (1...5_000).map { BenchWorkload.sampleRecord(.syslog, number: $0)[0] } + ["not a syslog line"]
        let path = try workspace.file("auth.log", lines.joined(separator: "\n"))
        let context = ParserContext(integration: "test", defaultHostname: "h")

        var inline = try EventStream(path: path, format: .syslog, context: context)
        var expected: [String] = []
        var expectedRejected: [Int] = []
        let records = try inline.forEachBatch(limit: 64) { events, rejected in
            expected += events.map(\.raw)
            expectedRejected += rejected.map(\.line)
        }

        var seen: [String] = []
        var seenRejected: [Int] = []
        let result = try EventStream(path: path, format: .syslog, context: context).forEachBatchReadingAhead(limit: 64) { events, rejected in
            seen += events.map(\.raw)
            seenRejected += rejected.map(\.line)
        }
        #expect(seen == expected)
        #expect(seen.count == 5_000)
        #expect(seenRejected == expectedRejected)
        #expect(result.records == records)
        #expect(result.skipped == inline.skippedRecords)
    }

    @Test func aFailureInTheBodyStopsCleanly() throws {
        struct Stop: Error {}
        let workspace = Workspace()
        let path = try workspace.file("auth.log", (1...2_000).map { BenchWorkload.sampleRecord(.syslog, number: $0)[0] }.joined(separator: "\n"))
        var batches = 0
        #expect(throws: Stop.self) {
            _ = try EventStream(path: path, format: .syslog, context: ParserContext(integration: "test")).forEachBatchReadingAhead(limit: 16) { _, _ in
                batches += 1
                if batches == 3 { throw Stop() }
            }
        }
        #expect(batches == 3)
    }
}
