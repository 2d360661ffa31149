import Benchmark
import Foundation
import VigilTooling
import VigilIngest
import VigilModel
import VigilPipeline

/// Framing and parsing, per source format, over a generated file of 10k events.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.instructions, .mallocCountTotal, .throughput, .wallClock],
        scalingFactor: .kilo,
        maxDuration: .seconds(3)
    )
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-parsing-\(getpid())")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    guard let files = try? BenchWorkload.write(events: 120_000, to: directory) else { return }
    for file in files {
        Benchmark(
            "Parse \(file.format.rawValue)",
            configuration: .init(thresholds: [
                // Checked-in ceilings on deterministic metrics: `swift package benchmark thresholds check` fails past them.
                .mallocCountTotal: .init(relative: [.p90: 25.0]),
                .instructions: .init(relative: [.p90: 25.0]),
            ])
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                var stream = try EventStream(path: file.path, format: file.format, context: ParserContext(integration: "bench", defaultHostname: "h"))
                var events = 0
                try stream.forEachBatch(limit: 4096) { batch, _ in events += batch.count }
                blackHole(events)
            }
        }
    }
}
