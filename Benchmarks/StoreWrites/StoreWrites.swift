import Benchmark
import Foundation
import VigilTooling
import VigilModel
import VigilPipeline
import VigilStore

/// The writer: 10k events per transaction into a fresh database, against the raw ceiling.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.instructions, .mallocCountTotal, .throughput, .wallClock], scalingFactor: .kilo, maxDuration: .seconds(5))
    let fields = [EventField(FieldKey("Image"), "/usr/bin/bash"), EventField(FieldKey("CommandLine"), "ls -la /var/log"), EventField(FieldKey("User"), "svc")]
    func event(_ index: Int) -> Event {
        Event(time: Timestamp(seconds: 1_800_000_000 + Double(index)), machine: MachineIdentity(hostname: "h\(index % 100)", platform: .linux),
              sourceFormat: "json", integration: "json", logSource: LogSource(product: "linux", category: "process_creation"),
              fields: fields, raw: #"{"Image":"/usr/bin/bash","CommandLine":"ls -la /var/log","n":\#(index)}"#, line: index)
    }
    Benchmark("Write 10k events") { benchmark in
        for iteration in benchmark.scaledIterations {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-write-\(getpid())-\(iteration).sqlite").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            let store = try Store(path: path)
            let writer = BatchCommitter(store: store)
            let items = (0..<10_000).map { BatchItem(event: event($0), detections: []) }
            benchmark.startMeasurement()
            blackHole(try writer.write(items, rejected: [], recordsRead: 0, importID: nil))
            benchmark.stopMeasurement()
        }
    }
    Benchmark("Store ceiling, 10k raw inserts") { benchmark in
        let pool = (0..<1_000).map { index in
            StoreCeiling.Row(time: Int64(index), integration: "json", format: "json", product: "linux", category: "process_creation", service: nil,
                             fields: #"{"Image":"/usr/bin/bash","CommandLine":"ls -la /var/log","User":"svc"}"#,
                             raw: #"{"Image":"/usr/bin/bash","CommandLine":"ls -la /var/log","n":\#(index)}"#, line: Int64(index))
        }
        for iteration in benchmark.scaledIterations {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-ceiling-\(getpid())-\(iteration).sqlite").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            blackHole(try StoreCeiling.measure(path: path, pool: pool, total: 10_000))
        }
    }
}
