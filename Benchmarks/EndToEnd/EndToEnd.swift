import Benchmark
import Foundation
import VigilTooling
import VigilDetection
import VigilModel
import VigilPipeline
import VigilStore

/// End-to-end import of a 20k-event mixed workload with the built-in rules.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.throughput, .wallClock, .peakMemoryResident], maxDuration: .seconds(10), maxIterations: 5)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-e2e-\(getpid())")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    guard let files = try? BenchWorkload.write(events: 20_000, to: directory) else { return }
    Benchmark("Import 20k mixed events") { benchmark in
        for iteration in benchmark.scaledIterations {
            let path = directory.appendingPathComponent("e2e-\(iteration).sqlite").path
            let store = try Store(path: path)
            for integration in try store.integrations() { try store.setIntegration(integration.name, enabled: true, actor: "bench") }
            let pipeline = ImportPipeline(store: store, ruleSet: .builtin())
            for file in files {
                let integration = try store.integrations().first { $0.formats.contains(file.format.rawValue) }!.name
                blackHole(try pipeline.importFiles([file.path], format: .fixed(file.format), integration: integration, actor: "bench"))
            }
        }
    }
}
