// Detection's cost in instructions per event, for `scripts/detection-instructions.sh`, which
// runs this program under `valgrind --tool=callgrind` and counts only what `detectAll` runs
// (or, with `--parse`, what `parseAll` runs).
// Wall-clock rates on a shared machine swing by 2× from day to day; instruction counts for
// the same binary and input do not.
//
// The sample is fixed: the bench workload's first 50,000 events (every format, about 1%
// detected), parsed before the counted part, and the default rule pack (SigmaHQ Linux and
// macOS plus the built-in pack). The main function is synchronous on purpose: valgrind 3.19
// stops on the signal wait with which an async main parks its main thread.
import Foundation
import VigilDetection
import VigilIngest
import VigilModel
import VigilTooling

/// Runs every rule of `ruleSet` over every event; returns the number of detections. Callgrind
/// counts this function alone (`--toggle-collect`), so keep it out of line.
@inline(never)
func detectAll(_ events: inout [Event], ruleSet: RuleSet) -> Int {
    var detector = Detector(ruleSet: ruleSet)
    var detections: [Detection] = []
    var found = 0
    // Each event is lent to the detector as the import's workers lend it (`BatchReader`, through
    // `UnsafeDisjointWrites.withElement`). Handed the array's element itself, the detector got
    // a copy: a retain and a release of every string and array the event holds, about 5% of
    // the count, and a cost of this harness, not of detection.
    events.withUnsafeMutableBufferPointer { events in
        let lent = UnsafeDisjointWrites(slots: events, context: ())
        for index in events.indices {
            lent.withElement(at: index) { detector.detect($0, into: &detections) }
            found += detections.count
            detections.removeAll(keepingCapacity: true)
        }
    }
    return found
}

let sampleSize = 50_000
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-detection-instructions-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
/// Parses every file of the sample on this thread, in order; `scripts/detection-instructions.sh
/// --parse` counts this function alone. The events are returned, so freeing them is not counted.
@inline(never)
func parseAll(_ files: [(format: SourceFormat, path: String)]) throws -> [Event] {
    var events: [Event] = []
    for file in files {
        var stream = try EventStream(path: file.path, format: file.format, context: ParserContext(integration: "bench"))
        _ = try stream.forEachBatch { batch, _ in events += batch }
    }
    return events
}

var events = try parseAll(try BenchWorkload.write(events: sampleSize, to: folder))
let loaded = RuleSet.load(paths: [RuleSet.defaultPack])
let detections = detectAll(&events, ruleSet: loaded.ruleSet)
// One line for the script: events, rules, detections.
print("events=\(events.count) rules=\(loaded.ruleSet.rules.count) detections=\(detections)")
