import ArgumentParser
import Foundation
import VigilTooling
import VigilIngest
import VigilPipeline

extension Vigil {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure throughput on a generated mixed workload: parse, detect, the store ceiling, end-to-end import and hunt, in one run.",
            discussion: "Ratios are the point: the machine may be shared and noisy, so compare rates from the same run.")

        @Option(help: "About how many events to generate.") var events = 1_000_000
        @Option(parsing: .upToNextOption, help: "Only these formats (default: every format, mixed).") var format: [SourceFormat] = []
        @OptionGroup var ruleOptions: RuleOptions
        @Option(help: "Run each stage this many times and report its best rate.") var `repeat` = 3
        @Flag(help: "Print one JSON object.") var json = false
        @Option(name: .customLong("write-workload"), help: ArgumentHelp(
            "Only write the workload's log files (one per format) into this folder, print their paths and stop.",
            discussion: "For profiling a stage on a fixed sample, as scripts/detection-instructions.sh does."))
        var workloadFolder: String?

        func validate() throws {
            if events < 1_000 { throw ValidationError("--events must be at least 1000") }
            if !(1...20).contains(`repeat`) { throw ValidationError("--repeat must be 1…20") }
        }

        func run() throws {
            if let workloadFolder {
                let folder = URL(fileURLWithPath: workloadFolder, isDirectory: true)
                do {
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    for file in try BenchWorkload.write(events: events, to: folder, formats: format.isEmpty ? nil : format) { print(file.path) }
                } catch {
                    throw ValidationError("cannot write the workload into \(workloadFolder): \(error.localizedDescription)")
                }
                return
            }
            let ruleSet = try ruleOptions.load()
            let report = try BenchRunner.run(events: events, formats: format.isEmpty ? nil : format, ruleSet: ruleSet, repeats: `repeat`) { writeStderr("bench: \($0)") }
            if json {
                print(report.json)
                return
            }
            func rate(_ value: Double) -> String { String(format: "%12.0f", value) }
            print("""
                events                  \(report.events)
                rules                   \(report.rules)
                parse                   \(rate(report.parseEventsPerSecond)) events/s
                detect (2 threads)      \(rate(report.detectEventsPerSecond)) events/s
                store ceiling           \(rate(report.storeCeilingRowsPerSecond)) rows/s
                physical ceiling        \(rate(report.physicalCeilingRowsPerSecond)) rows/s
                import (end to end)     \(rate(report.importEventsPerSecond)) events/s   = \(String(format: "%.2f", report.importToCeilingRatio)) × the store ceiling, \(String(format: "%.2f", report.importToPhysicalCeilingRatio)) × the physical one
                hunt                    \(rate(report.huntEventsPerSecond)) events/s   = \(String(format: "%.2f", report.huntToParseRatio)) × parse
                alerts raised           \(report.alertsRaised)
                peak RSS                \(report.peakRSSBytes / 1_048_576) MiB
                """)
        }
    }
}
