import ArgumentParser
import VigilDetection
import VigilPipeline
import VigilIngest
import VigilModel
import VigilStore

extension Vigil {
    struct Hunt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run rules over log files without a database, for fast triage.",
            discussion: """
                Prints one record per (event, rule) match, and one per Sigma correlation rule that fires, \
                on event time across all the files, as `vigil import` raises them. Streams; exits 0 whether \
                or not anything matched.
                """)

        @OptionGroup var ruleOptions: RuleOptions

        @OptionGroup var correlationOptions: CorrelationOptions

        @Option(help: "The source format; `auto` detects it from each file's first records.")
        var format: FormatChoice = .auto

        @Option(name: .customLong("output-format"), help: "Output format.")
        var outputFormat: OutputFormat = .table

        @Argument(help: "Log files (`-` for stdin).")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("name at least one FILE to hunt through") }
        }

        func run() throws {
            let ruleSet = try ruleOptions.load()
            // Correlation rules run as in `vigil import`: on event time, windows shared across files.
            let correlator = Correlator(ruleSet: ruleSet, maxFutureSkew: correlationOptions.maxFutureSkew.duration)
            let columns = ["rule_id", "title", "severity", "file", "line", "hostname", "time", "author", "matched_fields"]
            var table = OutputTable(columns: columns, tableColumns: ["severity", "title", "file", "line", "hostname", "time"])
            var matches = 0
            if outputFormat == .csv { print(columns.joined(separator: ",")) }
            for file in files {
                try forEachDetectedEvent(in: file, format: format, ruleSet: ruleSet) { item in
                    let event = item.event
                    for detection in correlator.correlate(event: event, key: item.key, detections: item.detections, now: .now()) {
                        matches += 1
                        let row: [OutputValue] = [
                            .text(detection.rule.id), .text(detection.rule.title), .text(detection.rule.severity.name), .text(file),
                            .integer(Int64(event.line)), .text(event.machine.hostname), OutputValue(event.time),
                            .text(detection.rule.author), .json(JSONText.object(fields: detection.matchedFields, name: \.name)),
                        ]
                        switch outputFormat {
                        // Streaming formats print as they go; the table and JSON array need every row first.
                        case .jsonl: print(OutputTable(columns: columns, rows: [row]).render(.jsonl))
                        case .csv: print(OutputTable(columns: columns, rows: [row]).csvRecords()[0])
                        case .table, .json: table.rows.append(row)
                        }
                    }
                }
            }
            if outputFormat == .table || outputFormat == .json { emit(table.render(outputFormat)) }
            writeStderr("\(matches) matches")
            if let warning = RegexBudget.warning { writeStderr(warning) }
        }
    }
}
