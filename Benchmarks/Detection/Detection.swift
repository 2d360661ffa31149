import Benchmark
import Foundation
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline

/// Detection with the full corpus rule set (../shared/corpus/sigma plus the built-in pack),
/// over parsed events of every format.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.instructions, .mallocCountTotal, .throughput, .wallClock], scalingFactor: .kilo, maxDuration: .seconds(3))
    let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus/sigma").standardized.path
    let ruleSet = RuleSet.load(paths: ["builtin", corpus]).ruleSet
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-detection-\(getpid())")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var events: [Event] = []
    for file in (try? BenchWorkload.write(events: 20_000, to: directory)) ?? [] {
        guard var stream = try? EventStream(path: file.path, format: file.format, context: ParserContext(integration: "bench")) else { continue }
        _ = try? stream.forEachBatch { batch, _ in events += batch }
    }
    let pool = events
    Benchmark("Detect 1k mixed events, \(ruleSet.rules.count) rules",
              configuration: .init(thresholds: [.mallocCountTotal: .init(relative: [.p90: 25.0]), .instructions: .init(relative: [.p90: 25.0])])) { benchmark in
        var detector = Detector(ruleSet: ruleSet)
        var detections: [Detection] = []
        for _ in benchmark.scaledIterations {
            for index in 0..<1_000 {
                detector.detect(pool[index * 7 % pool.count], into: &detections)
            }
            blackHole(detections.count)
            detections.removeAll(keepingCapacity: true)
        }
    }
}
