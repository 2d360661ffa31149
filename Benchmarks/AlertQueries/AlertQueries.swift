import Benchmark
import Foundation
import VigilTooling
import VigilModel
import VigilStore

/// The first page of filtered alert queries on a store with 1M alerts.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(3))
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-alerts-\(getpid()).sqlite").path
    guard let store = try? Store(path: path) else { return }
    try? AlertFixture.fill(store, alerts: 1_000_000, machines: 5_000)
    let filters: [(String, AlertFilter)] = [
        ("newest", AlertFilter()),
        ("high on linux", AlertFilter(platform: .linux, minimumSeverity: .high)),
        ("one machine", AlertFilter(machine: "host-1234")),
        ("one rule, last day", AlertFilter(since: Timestamp(seconds: 1_800_000_000 - 86_400), rule: "rule-7")),
        ("status resolved", AlertFilter(status: "resolved")),
    ]
    for (name, filter) in filters {
        Benchmark("First page of 100, \(name), 1M alerts") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try store.alerts(filter).count) }
        }
    }
}
