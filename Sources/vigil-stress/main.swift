// vigil-stress: the multi-threaded and unsafe-pointer code under a sanitizer.
//
// `scripts/sanitize.sh address|thread` builds this with AddressSanitizer or ThreadSanitizer
// and runs it. It drives the code that reads memory through pointers or runs on several
// threads (the batch reader's workers and read-ahead, the prefilter's scan tables and match
// programs they share, disjoint slot writes, the gzip and byte-search readers) and checks
// the answers, so a sanitizer finding and a wrong answer both fail it:
//
// 1. a mixed workload of every format, plain and gzipped, imported on one thread and with
//    read-ahead and two workers: both stores must hold the same events and alerts;
// 2. the corpus logs (when the shared corpus is checked out beside the repository) imported
//    the same two ways;
// 3. four threads detecting over one shared rule set at once, each with its own detector:
//    every thread must find what one thread alone finds;
// 4. a hunt's reading, with framing, parsing and detection each on threads of their own
//    (`forEachBatch(parsingAhead:)`), of the workload and the corpus logs: it must give what
//    reading batch by batch on one thread gives.
//
// Usage: vigil-stress [EVENTS] [SHARED-CORPUS-DIRECTORY]
import CZlib
import Foundation
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore
import VigilTooling

let arguments = CommandLine.arguments.dropFirst()
let eventCount = arguments.first.flatMap(Int.init) ?? 20_000
let corpus = arguments.dropFirst().first ?? "../shared/corpus"
/// The checks that failed, with what they found.
nonisolated(unsafe) var failures: [String] = []  // only the main thread touches it

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { failures.append(message()) }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data("vigil-stress: \(message)\n".utf8))
}

/// Imports `files` into a new store at `database`, one file per integration that takes its format.
func importFiles(_ files: [(format: SourceFormat, path: String)], ruleSet: RuleSet, database: String, parallel: Bool) throws -> (Store, String) {
    let store = try Store(path: database)
    for integration in try store.integrations() { try store.setIntegration(integration.name, enabled: true, actor: "stress") }
    let integrations = try store.integrations()
    let pipeline = ImportPipeline(store: store, ruleSet: ruleSet)
    pipeline.parallel = parallel
    pipeline.workers = parallel ? 2 : 1
    pipeline.batchSize = 1_000
    var counts: [String] = []
    for file in files {
        guard let integration = integrations.first(where: { $0.formats.contains(file.format.rawValue) }) else { continue }
        let summary = try pipeline.importFiles([file.path], format: .fixed(file.format), integration: integration.name, actor: "stress",
                                               defaultHostname: "stress")
        let outcome = summary.outcome
        counts.append("\(file.format.rawValue): \(summary.recordsRead) read, \(summary.eventsParsed) parsed, \(outcome.stored) stored, "
            + "\(outcome.duplicates) duplicates, \(outcome.rejected) rejected, \(outcome.alertsRaised) raised, \(outcome.alertsUpdated) updated")
    }
    return (store, counts.joined(separator: "\n"))
}

/// The rows a store holds, as text lines, in a stable order.
func contents(_ store: Store) throws -> (events: [String], alerts: [String]) {
    func rows(_ sql: String) throws -> [String] {
        try store.connection.statement(sql).rows { row in row.columnNames.map { row.text($0) }.joined(separator: "|") }
    }
    return (try rows("SELECT key, time, source_format, category, fields, raw FROM events ORDER BY key"),
            try rows("""
                SELECT a.rule_id, m.hostname, a.event_count, a.first_event_time, a.last_event_time, a.dedupe_key
                FROM alerts a JOIN machines m ON m.id = a.machine_id ORDER BY 1, 2, 4, 6
                """))
}

/// Imports `files` serially and in parallel and checks that both stores hold the same rows.
func compareImports(_ name: String, _ files: [(format: SourceFormat, path: String)], ruleSet: RuleSet, in workspace: TemporaryDirectory) throws {
    let (serialStore, serialCounts) = try importFiles(files, ruleSet: ruleSet, database: workspace.path("\(name)-serial.sqlite"), parallel: false)
    let (parallelStore, parallelCounts) = try importFiles(files, ruleSet: ruleSet, database: workspace.path("\(name)-parallel.sqlite"), parallel: true)
    let serial = try contents(serialStore), parallel = try contents(parallelStore)
    check(parallelCounts == serialCounts, "\(name): the imports counted differently:\n\(serialCounts)\nagainst, in parallel:\n\(parallelCounts)")
    log("\(name): \(serial.events.count) events, \(serial.alerts.count) alerts")
    check(!serial.events.isEmpty, "\(name): the serial import stored no events")
    check(parallel.events == serial.events, "\(name): the parallel import stored other events than the serial one")
    check(parallel.alerts == serial.alerts, "\(name): the parallel import raised other alerts than the serial one")
}

/// Gzips `path` beside itself with zlib, so the import reads it through the inflater.
func gzipCopy(of path: String) throws -> String {
    let contents = try Data(contentsOf: URL(fileURLWithPath: path))
    guard let file = gzopen(path + ".gz", "wb") else { throw CocoaError(.fileWriteUnknown) }
    let written = contents.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
    guard gzclose(file) == Z_OK, written == contents.count else { throw CocoaError(.fileWriteUnknown) }
    return path + ".gz"
}

/// The corpus logs of each format that has some, by folder.
func corpusFiles() -> [(format: SourceFormat, path: String)] {
    let folders: [(SourceFormat, String)] = [
        (.auditd, "auditd"), (.sysmonLinux, "sysmon_linux"), (.santa, "macos_santa"), (.jamfProtect, "macos_jamf_protect"),
        (.osquery, "osquery"), (.clamav, "clamav"), (.cef, "cef_av"), (.syslog, "syslog_auth"), (.mobileThreatDefense, "android_ios"),
    ]
    var files: [(format: SourceFormat, path: String)] = []
    for (format, folder) in folders {
        let root = URL(fileURLWithPath: corpus + "/logs/" + folder)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { continue }
        for case let url as URL in walker where ["log", "json", "jsonl", "txt", "ndjson"].contains(url.pathExtension) {
            files.append((format, url.path))
        }
    }
    return files
}

/// Four threads detect over the same events with one shared rule set; each must find what one thread finds.
func compareSharedDetection(_ files: [(format: SourceFormat, path: String)], ruleSet: RuleSet) throws {
    var read: [Event] = []
    for file in files {
        let reader = try BatchReader(source: try ByteSource(path: file.path), format: file.format,
                                     context: ParserContext(integration: "stress", defaultHostname: "stress"), ruleSet: ruleSet, workers: 1)
        while let batch = try reader.next() { read += batch.items.map(\.event) }
    }
    let events = read
    @Sendable func detectAll() -> [String] {
        var detector = Detector(ruleSet: ruleSet)
        var found: [String] = []
        var detections: [Detection] = []
        for (index, event) in events.enumerated() {
            detections.removeAll(keepingCapacity: true)
            detector.detect(event, into: &detections)
            found += detections.map { "\(index):\($0.rule.id)" }
        }
        return found
    }
    let alone = detectAll()
    let threads = 4
    // Each thread writes its own slot: ThreadSanitizer cannot see Synchronization.Mutex's futex
    // on Linux, and took the threads' writes to one array under it for a race.
    var perThread = [[String]](repeating: [], count: threads)
    perThread.withUnsafeMutableBufferPointer { slots in
        let results = UnsafeDisjointWrites(slots: slots, context: ())
        DispatchQueue.concurrentPerform(iterations: threads) { thread in results.write(detectAll(), at: thread) }
    }
    log("shared detection: \(events.count) events, \(alone.count) detections on each of \(threads) threads")
    check(!alone.isEmpty, "shared detection: no rule matched the workload")
    for thread in 0..<threads {
        check(perThread[thread] == alone, "shared detection: thread \(thread) found \(perThread[thread].count) detections, one thread alone \(alone.count)")
    }
}

/// A hunt's reading of each file (`forEachBatch(parsingAhead:)`: framing, parsing and detection
/// on threads of their own) must give the matched events, detections, rejections and counts,
/// in order, that reading batch by batch on one thread gives.
func compareHuntReading(_ name: String, _ files: [(format: SourceFormat, path: String)], ruleSet: RuleSet) throws {
    var compared = 0
    for file in files {
        func read(ahead: Bool) throws -> [String] {
            let reader = try BatchReader(source: try ByteSource(path: file.path), format: file.format,
                                         context: ParserContext(integration: "stress", defaultHostname: "stress"), ruleSet: ruleSet,
                                         batchSize: 1_000, use: .hunting, workers: ahead ? 2 : 1)
            var lines: [String] = []
            func take(_ batch: PreparedBatch) {
                lines += batch.items.map { "\($0.event.line) \($0.event.raw.utf8.count) \($0.detections.map(\.rule.id))" }
                lines += batch.rejected.map { "rejected \($0.line): \($0.reason)" }
                lines.append("parsed \(batch.eventsParsed)")
            }
            if ahead {
                try reader.forEachBatch(parsingAhead: true, take)
            } else {
                while let batch = try reader.next() { take(batch) }
            }
            return lines
        }
        let serial = try read(ahead: false)
        check(try read(ahead: true) == serial, "\(name): the hunt's reading of \(file.path) differs from reading it on one thread")
        compared += serial.count
    }
    log("\(name): hunt reading, \(compared) matches, rejections and batch counts compared")
    check(compared > 0, "\(name): the hunt's reading compared nothing")
}

/// Runs every check. Everything it allocates is released when it returns, so what
/// LeakSanitizer reports at exit is a leak (module globals aside).
func runChecks() {
    let ruleSet = RuleSet.defaultRules()
    log("\(ruleSet.rules.count) rules (the default pack)")
    do {
        let workspace = TemporaryDirectory(prefix: "vigil-stress")
        let workload = try BenchWorkload.write(events: eventCount, to: workspace.url)
        // Half the formats gzipped, so the inflater runs under the sanitizer too.
        let mixed = try workload.enumerated().map { index, file in index.isMultiple(of: 2) ? (file.format, try gzipCopy(of: file.path)) : file }
        try compareImports("workload", mixed, ruleSet: ruleSet, in: workspace)
        let corpusLogs = corpusFiles()
        if corpusLogs.isEmpty {
            log("no shared corpus at \(corpus): its logs are skipped")
        } else {
            try compareImports("corpus", corpusLogs, ruleSet: ruleSet, in: workspace)
            try compareHuntReading("corpus", corpusLogs, ruleSet: ruleSet)
        }
        try compareHuntReading("workload", mixed, ruleSet: ruleSet)
        try compareSharedDetection(workload, ruleSet: ruleSet)
    } catch {
        failures.append("stopped by an error: \(error)")
    }
}

runChecks()
for failure in failures { log("FAILED: \(failure)") }
log(failures.isEmpty ? "all checks passed" : "\(failures.count) check(s) failed")
exit(failures.isEmpty ? 0 : 1)
