import Foundation
import Synchronization
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

/// The figures `vigil bench` reports, all measured in one run.
public struct BenchReport: Sendable {
    public var events = 0
    public var rules = 0
    public var parseEventsPerSecond = 0.0
    public var detectEventsPerSecond = 0.0
    public var storeCeilingRowsPerSecond = 0.0
    /// What SQLite can physically append: the same rows into a plain table (`StoreCeiling.measurePhysical`).
    public var physicalCeilingRowsPerSecond = 0.0
    public var importEventsPerSecond = 0.0
    public var huntEventsPerSecond = 0.0
    public var peakRSSBytes = 0
    public var alertsRaised = 0

    public var importToCeilingRatio: Double { storeCeilingRowsPerSecond > 0 ? importEventsPerSecond / storeCeilingRowsPerSecond : 0 }
    public var importToPhysicalCeilingRatio: Double {
        physicalCeilingRowsPerSecond > 0 ? importEventsPerSecond / physicalCeilingRowsPerSecond : 0
    }
    public var huntToParseRatio: Double { parseEventsPerSecond > 0 ? huntEventsPerSecond / parseEventsPerSecond : 0 }

    /// One JSON object with stable snake_case keys.
    public var json: String {
        func rate(_ value: Double) -> String { String(Int(value.rounded())) }
        return """
            {"events":\(events),"rules":\(rules),"parse_events_per_s":\(rate(parseEventsPerSecond)),\
            "detect_events_per_s":\(rate(detectEventsPerSecond)),"store_ceiling_rows_per_s":\(rate(storeCeilingRowsPerSecond)),\
            "physical_ceiling_rows_per_s":\(rate(physicalCeilingRowsPerSecond)),"import_events_per_s":\(rate(importEventsPerSecond)),\
            "import_to_ceiling_ratio":\(String(format: "%.3f", importToCeilingRatio)),\
            "import_to_physical_ceiling":\(String(format: "%.3f", importToPhysicalCeilingRatio)),\
            "hunt_events_per_s":\(rate(huntEventsPerSecond)),"hunt_to_parse_ratio":\(String(format: "%.3f", huntToParseRatio)),\
            "alerts_raised":\(alertsRaised),"peak_rss_bytes":\(peakRSSBytes)}
            """
    }
}

/// Runs the throughput benchmark: a generated mixed workload through each stage, and the
/// store ceiling, in one process so the ratios compare like with like.
public enum BenchRunner {
    /// Events kept in memory for the detection and ceiling measurements (bounded memory).
    static let poolLimit = 50_000

    /// Each stage runs `repeats` times and reports its best rate, so one slow moment on a
    /// shared machine does not skew a ratio; every repeat uses a fresh database.
    public static func run(events: Int, formats: [SourceFormat]?, ruleSet: RuleSet, repeats: Int = 3, log: (String) -> Void) throws -> BenchReport {
        precondition(repeats >= 1)
        func best(_ stage: (_ attempt: Int) throws -> Double) rethrows -> Double {
            var rate = 0.0
            for attempt in 0..<repeats { rate = max(rate, try stage(attempt)) }
            return rate
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var report = BenchReport()
        report.rules = ruleSet.rules.count + ruleSet.correlations.count

        log("generating about \(events) events")
        let files = try BenchWorkload.write(events: events, to: directory, formats: formats)

        // Parse: framing and parsing only; keep a pool of events for later stages.
        log("parsing")
        var pool: [Event] = []
        var parsed = 0
        report.parseEventsPerSecond = try best { _ in
            pool.removeAll(keepingCapacity: true)
            parsed = 0
            let seconds = try timed {
                for file in files {
                    var stream = try EventStream(path: file.path, format: file.format, context: ParserContext(integration: "bench", defaultHostname: "bench-host"))
                    try stream.forEachBatch { batch, _ in
                        parsed += batch.count
                        for event in batch where pool.count < poolLimit || parsed % 7 == 0 {
                            if pool.count < poolLimit { pool.append(event) } else { pool[parsed % poolLimit] = event }
                        }
                    }
                }
            }
            return Double(parsed) / seconds
        }
        report.events = parsed

        // Detect: every rule over the events, on both cores, each thread with its own detector.
        log("detecting with \(report.rules) rules on 2 threads")
        let perThread = max(parsed / 2, 1)
        let sharedPool = pool
        let detected = Atomic<Int>(0)
        report.detectEventsPerSecond = try best { _ in
            let seconds = try timed {
                DispatchQueue.concurrentPerform(iterations: 2) { worker in
                    var detector = Detector(ruleSet: ruleSet)
                    var detections: [Detection] = []
                    var count = 0
                    let events = sharedPool
                    for index in 0..<perThread {
                        detections.removeAll(keepingCapacity: true)
                        detector.detect(events[(index * 2 + worker) % events.count], into: &detections)
                        count += detections.count
                    }
                    detected.add(count, ordering: .relaxed)
                }
            }
            return Double(perThread * 2) / seconds
        }
        // Read, so that the detection above is observable and cannot be optimized away: once
        // `Detector.detect` could be inlined here, a count nobody read let the whole loop go
        // (9.8 billion events/s).
        log("detecting found \(detected.load(ordering: .relaxed)) matches over \(repeats) runs")

        // The ceilings: the pool's events as the events table holds them, appended by raw
        // prepared inserts into fresh databases.
        var json = FieldsJSONWriter()
        let rows = pool.map { event in
            StoreCeiling.Row(time: event.time.microseconds, integration: event.integration, format: event.sourceFormat,
                             product: event.logSource.product, category: event.logSource.category, service: event.logSource.service,
                             fields: json.object(event.fields), raw: event.raw, line: Int64(event.line))
        }
        pool = []
        // End to end: the real import of every file into a fresh database.
        func importAll(attempt: Int) throws -> Double {
            let store = try Store(path: directory.appendingPathComponent("import-\(attempt).sqlite").path)
            for integration in try store.integrations() { try store.setIntegration(integration.name, enabled: true, actor: "bench") }
            let pipeline = ImportPipeline(store: store, ruleSet: ruleSet)
            var eventsImported = 0
            report.alertsRaised = 0
            let seconds = try timed {
                for file in files {
                    let integration = try store.integrations().first { $0.formats.contains(file.format.rawValue) }?.name ?? "json"
                    let summary = try pipeline.importFiles([file.path], format: .fixed(file.format), integration: integration, actor: "bench",
                                                           defaultHostname: "bench-host")
                    eventsImported += summary.eventsParsed
                    report.alertsRaised += summary.outcome.alertsRaised
                }
            }
            return Double(eventsImported) / seconds
        }
        // The two ceilings and the import take turns, attempt by attempt, so that the rates of
        // each ratio are measured seconds apart, not a minute apart: this machine's speed
        // drifts. With the stages run one after the other, six auditd benches measured the
        // physical ceiling at 284-426k rows/s and the import at 190-224k events/s.
        // Each database is deleted once measured, and what is left to write is flushed before
        // the next stage starts: otherwise the kernel writes one stage's hundreds of megabytes
        // back to disk during the next, on the same two cores.
        func settle(_ path: String) {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            sync()
        }
        log("measuring the store ceiling, the physical ceiling and the import end to end, in turns")
        for attempt in 0..<repeats {
            let ceiling = directory.appendingPathComponent("ceiling-\(attempt).sqlite").path
            report.storeCeilingRowsPerSecond = max(report.storeCeilingRowsPerSecond, try StoreCeiling.measure(path: ceiling, pool: rows, total: parsed))
            settle(ceiling)
            let physical = directory.appendingPathComponent("physical-\(attempt).sqlite").path
            report.physicalCeilingRowsPerSecond = max(report.physicalCeilingRowsPerSecond,
                                                      try StoreCeiling.measurePhysical(path: physical, pool: rows, total: parsed))
            settle(physical)
            report.importEventsPerSecond = max(report.importEventsPerSecond, try importAll(attempt: attempt))
            settle(directory.appendingPathComponent("import-\(attempt).sqlite").path)
        }

        // Hunt: parse and match, no database, as `vigil hunt` runs: the batch reader parses,
        // matches and keys on both cores while this thread takes its batches.
        log("hunting")
        report.huntEventsPerSecond = try best { _ in
            var hunted = 0
            let seconds = try timed {
                for file in files {
                    let reader = try BatchReader(source: ByteSource(path: file.path), format: file.format,
                                                 context: ParserContext(integration: "hunt", defaultHostname: "bench-host"),
                                                 ruleSet: ruleSet, use: .hunting)
                    try reader.forEachBatch(parsingAhead: true) { batch in hunted += batch.eventsParsed }
                }
            }
            return Double(hunted) / seconds
        }
        report.peakRSSBytes = ProcessMemory.peakResidentBytes()
        return report
    }

    static func timed(_ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        let started = clock.now
        try body()
        return (clock.now - started).seconds
    }
}
