import Benchmark
import VigilIngest
import VigilModel
import VigilPipeline

/// Parsing throughput per source format, over records already framed in memory.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.instructions, .mallocCountTotal, .throughput, .wallClock],
        scalingFactor: .kilo,
        maxDuration: .seconds(5)
    )

    let jsonRecords = DemoData.lines(endingAt: Timestamp(seconds: 1_800_000_000), backgroundEvents: 1_000)
        .prefix(1_000).enumerated().map { RawRecord(line: $0.offset + 1, text: $0.element) }

    Benchmark(
        "Parse generic JSON (1k records)",
        configuration: .init(thresholds: [
            // Deterministic ceilings: a regression beyond these fails `swift package benchmark thresholds check`.
            .mallocCountTotal: .init(absolute: [.p90: 20_000]),
        ])
    ) { benchmark in
        var parser = JSONEventParser(context: ParserContext(integration: "bench"))
        var events: [Event] = []
        events.reserveCapacity(jsonRecords.count)
        for _ in benchmark.scaledIterations {
            events.removeAll(keepingCapacity: true)
            for record in jsonRecords { _ = parser.parse(record, into: &events) }
            blackHole(events.count)
        }
    }
}
