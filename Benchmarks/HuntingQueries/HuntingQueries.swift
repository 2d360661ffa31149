import Benchmark
import Foundation
import VigilStore
import VigilTooling

/// Five of the README's hunting queries (`vigil query`, `POST /api/v1/query`) on a store of ten
/// million events (`VIGIL_BENCH_EVENTS` sets another size). None has an index or a generated
/// column to lean on: each reads every event, and those calling `field()` parse each event's
/// fields.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock], maxDuration: .seconds(10), maxIterations: 3)
    let events = ProcessInfo.processInfo.environment["VIGIL_BENCH_EVENTS"].flatMap(Int.init) ?? 10_000_000
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-hunting-\(getpid()).sqlite").path
    guard let store = try? Store(path: path) else { return }
    do { try EventFixture.fill(store, events: events, machines: 1_000) } catch { fatalError("cannot fill the benchmark store: \(error)") }
    let queries: [(String, String)] = [
        ("events per machine", "SELECT hostname, os_platform, count(*) AS events FROM events GROUP BY hostname ORDER BY events DESC"),
        ("rare parent-child pairs", "SELECT field(fields, 'ParentImage') AS parent, field(fields, 'Image') AS child, count(*) AS n FROM events WHERE category = 'process_creation' GROUP BY parent, child ORDER BY n LIMIT 20"),
        ("processes run by a web server account", "SELECT hostname, time, field(fields, 'User') AS user, field(fields, 'CommandLine') AS command FROM events WHERE category = 'process_creation' AND field(fields, 'User') IN ('www-data', 'nginx', 'apache', 'httpd') ORDER BY time DESC LIMIT 1000"),
        ("password guessing by source address", "SELECT field(fields, 'SourceIp') AS source, count(*) AS failures, count(DISTINCT field(fields, 'User')) AS users FROM events WHERE field(fields, 'message') LIKE 'Failed password%' GROUP BY source HAVING failures >= 5 ORDER BY failures DESC"),
        ("one machine's last hour", "SELECT time, category, field(fields, 'CommandLine') AS command FROM events WHERE hostname = 'host-42' AND time_us >= 1800000000000000 - 3600000000 ORDER BY time_us DESC"),
    ]
    for (name, sql) in queries {
        Benchmark("\(name), \(events / 1_000_000)M events") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try HuntingQuery(path: path).run(sql, timeout: .seconds(600), rowCap: 100_000).rows.count)
            }
        }
    }
}
