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
            var rows: [HuntMatch] = []
            var matches = 0
            if outputFormat == .csv { print(HuntMatch.columns.joined(separator: ",")) }
            for file in files {
                try forEachDetectedEvent(in: file, format: format, ruleSet: ruleSet) { item in
                    let event = item.event
                    // An event that continues a correlation that fired is counted in its alert by import; hunt reports the firing once.
                    for detection in correlator.correlate(event: event, key: item.key, detections: item.detections, now: .now())
                    where !detection.continuesCorrelation {
                        matches += 1
                        let row = HuntMatch(detection: detection, event: event, file: file)
                        switch outputFormat {
                        // Streaming formats print as they go; the table and JSON array need every row first.
                        case .jsonl: print(try jsonLine(row))
                        case .csv: print(try csvRecords([row])[0])
                        case .table, .json: rows.append(row)
                        }
                    }
                }
            }
            if outputFormat == .table || outputFormat == .json { emit(try render(rows, as: outputFormat)) }
            writeStderr("\(matches) matches")
            if let warning = RegexBudget.warning { writeStderr(warning) }
        }
    }
}

/// One rule (or correlation) matching one event of a hunted file.
struct HuntMatch: Listable {
    var ruleID: String
    var title: String
    var severity: String
    var file: String
    var line: Int
    var hostname: String
    var time: Timestamp
    var author: String
    var matchedFields: JSONValue

    init(detection: Detection, event: Event, file: String) {
        ruleID = detection.rule.id
        title = detection.title
        severity = detection.severity.name
        self.file = file
        line = event.line
        hostname = event.machine.hostname
        time = event.time
        author = detection.rule.author
        matchedFields = JSONValue(parsing: JSONText.object(fields: detection.matchedFields, name: \.name))
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case ruleID = "rule_id", title, severity, file, line, hostname, time, author, matchedFields = "matched_fields"
    }

    static let tableColumns = ["severity", "title", "file", "line", "hostname", "time"]
}
