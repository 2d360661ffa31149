import ArgumentParser
import Foundation
import VigilDetection
import VigilPipeline
import VigilIngest
import VigilModel
import VigilStore

extension Vigil {
    struct Hunt: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run rules over log files and folders without a database, for fast triage.",
            discussion: """
                Prints one record per (event, rule) match, and one per Sigma correlation rule that fires, \
                on event time across all the files, as `vigil import` raises them. Folders are read \
                recursively (.gz too). A file that cannot be read or whose format is not recognised is \
                reported and skipped; every file gets a line in the summary on stderr. Exits 0 whether or not \
                anything matched, 1 when a file was skipped.
                """)

        @OptionGroup var ruleOptions: RuleOptions

        @OptionGroup var correlationOptions: CorrelationOptions

        @Option(help: "The source format; `auto` detects it from each file's first records.")
        var format: FormatChoice = .auto

        @Option(name: .customLong("output-format"), help: "Output format.")
        var outputFormat: OutputFormat = .table

        @Option(help: "Write the matches (and --summary) to this file instead of stdout.")
        var output: String?

        @Option(help: "In folders, read only files whose name matches this glob (repeatable: *.log, audit*).")
        var include: [String] = []

        @Option(help: "In folders, skip files whose name or path below the folder matches this glob (repeatable).")
        var exclude: [String] = []

        @Flag(help: "Print every match sorted by event time, across files (sorted on disk in runs when there are many, so memory stays bounded).")
        var timeline = false

        @Option(help: "Only matches of events at or after this time (ISO 8601, or relative: 24h, 7d).")
        var since: String?

        @Option(help: "Only matches of events before this time.")
        var until: String?

        @Option(name: .customLong("min-level"), help: "Only matches of this level or above (informational, low, medium, high, critical).")
        var minLevel: String?

        @Option(help: "Only these rules: an id, or words of the title (repeatable).")
        var rule: [String] = []

        @Option(help: "Only rules with this tag, e.g. attack.t1059 or attack.execution (repeatable).")
        var tag: [String] = []

        @Flag(help: "After the matches, print matches per rule, level, host and file with first and last times.")
        var summary = false

        @Option(help: "Also write one self-contained HTML report here: summary, timeline chart, top rules and hosts, files, matches.")
        var report: String?

        @Option(help: "The machine of records that do not name one (default: this host's name).")
        var hostname: String?

        @Option(help: "The platform of machines in these files (linux, macos, ios, android), for records that do not say.")
        var platform: String?

        @Argument(help: "Log files and folders (`-` for stdin).")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("name at least one FILE or FOLDER to hunt through") }
            if let platform, OSPlatform(rawValue: platform) == nil || platform == OSPlatform.unknown.rawValue {
                throw ValidationError("--platform must be linux, macos, ios or android, not '\(platform)'")
            }
            if let hostname, hostname.allSatisfy(\.isWhitespace) { throw ValidationError("--hostname must name a machine") }
            _ = try filter()
        }

        /// The match filter the options ask for.
        func filter() throws -> HuntFilter {
            func time(_ text: String?, _ option: String) throws -> Timestamp? {
                guard let text else { return nil }
                guard let time = Timestamp(absoluteOrRelative: text) else {
                    throw ValidationError("\(option) '\(text)' is neither ISO 8601 (2026-11-27T10:00:00Z) nor relative (30m, 24h, 7d)")
                }
                return time
            }
            var minimum: Severity?
            if let minLevel {
                guard let level = Severity(name: minLevel) else {
                    throw ValidationError("--min-level '\(minLevel)' is unknown; use one of \(Severity.allCases.map(\.name).joined(separator: ", "))")
                }
                minimum = level
            }
            return HuntFilter(since: try time(since, "--since"), until: try time(until, "--until"), minimumLevel: minimum,
                              rules: rule, tags: tag)
        }

        func run() throws {
            let ruleSet = try ruleOptions.load()
            let filter = try filter()
            let inputs = HuntInputs.expand(files, include: include, exclude: exclude)
            let sink = try HuntOutput(path: output, format: outputFormat, timeline: timeline)
            defer { sink.flush() }
            // Correlation rules run as in `vigil import`: on event time, windows shared across files.
            let correlator = Correlator(ruleSet: ruleSet, maxFutureSkew: correlationOptions.maxFutureSkew.duration)
            var tally = HuntTally()
            var page = report.map { _ in HuntReport() }
            var reports: [HuntFileReport] = inputs.unreadable
            let context = ParserContext(integration: "hunt", defaultHostname: hostname ?? ProcessInfo.processInfo.hostName)
            let progress = ProgressBar()
            var json = FieldsJSONWriter()
            for file in inputs.files {
                var report = HuntFileReport(file: file)
                do {
                    let fixed: SourceFormat? = if case .fixed(let chosen) = format { chosen } else { nil }
                    let reader = try BatchReader(source: ByteSource(path: file), format: fixed, context: context, ruleSet: ruleSet,
                                                 use: .hunting, platform: platform.flatMap(OSPlatform.init(rawValue:)))
                    report.format = reader.format.rawValue + (fixed == nil ? " (detected)" : "")
                    try reader.forEachBatch(parsingAhead: true) { batch in
                        report.events += batch.eventsParsed
                        report.rejected += batch.rejected.count
                        for rejection in batch.rejected.prefix(max(0, 20 - (report.rejected - batch.rejected.count))) {
                            writeStderr("\(file):\(rejection.line): rejected: \(rejection.reason)")
                        }
                        // The reader hands on only the events some rule matched (`BatchReader.Use.hunting`): one
                        // that matched nothing feeds no correlation window and yields nothing.
                        for item in batch.items {
                            // A continuation of a correlation that fired is counted in its alert by import; hunt reports the firing once.
                            for detection in correlator.correlate(event: item.event, key: item.key?.identity ?? 0, detections: item.detections, now: .now())
                            where !detection.continuesCorrelation && filter.admits(detection, at: item.event.time) {
                                let match = HuntMatch(detection: detection, event: item.event, file: file, json: &json)
                                report.matches += 1
                                tally.add(match, severity: detection.severity)
                                page?.add(match, severity: detection.severity)
                                try sink.write(match)
                            }
                        }
                        let events = tally.events + report.events
                        progress.update(text: "\(tally.files + 1)/\(inputs.files.count) files, \(events) events, "
                                            + "\(Int(Double(events) / max(progress.elapsedSeconds, 0.001))) events/s, \(tally.matches) matches")
                    }
                } catch {
                    report.error = String(describing: error)
                }
                tally.finish(report)
                reports.append(report)
            }
            progress.finish()
            try sink.finish()
            if summary { try sink.writeSummary(tally.summaryRows()) }
            sink.flush()
            if let report, let page {
                let html = page.html(summary: tally.summaryRows(), files: reports, events: tally.events, generated: .now())
                let file = try openForWriting(report, option: "--report")
                do {
                    try file.write(contentsOf: Data(html.utf8))
                    try file.close()
                } catch {
                    throw CLIError("cannot write --report \(report): \(error.localizedDescription)")
                }
            }
            for report in reports { writeStderr(report.line) }
            writeStderr("\(tally.matches) matches in \(inputs.files.count) files (\(tally.events) events)"
                        + (reports.contains { $0.error != nil } ? "; \(reports.filter { $0.error != nil }.count) skipped" : ""))
            if let warning = RegexBudget.warning { writeStderr(warning) }
            if reports.contains(where: { $0.error != nil }) { throw ExitCode(1) }
        }
    }
}

/// What `vigil hunt` reads: the files named, and the files below the folders named.
struct HuntInputs {
    var files: [String] = []
    /// Paths that could not be listed, reported as skipped.
    var unreadable: [HuntFileReport] = []

    /// Named files as given (even when a glob would leave them out); folders recursively, in
    /// path order, regular files only, filtered by `include` and `exclude` (globs on the file
    /// name or the path below the folder). Symbolic links to folders are not followed.
    static func expand(_ paths: [String], include: [String], exclude: [String]) -> HuntInputs {
        var inputs = HuntInputs()
        for path in paths {
            var isFolder: ObjCBool = false
            guard path != "-", FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
                inputs.files.append(path)
                continue
            }
            let root = URL(fileURLWithPath: path)
            guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey]) else {
                inputs.unreadable.append(HuntFileReport(file: path, error: "cannot list the folder"))
                continue
            }
            var found: [String] = []
            for case let url as URL in walker {
                let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
                guard values?.isRegularFile == true, values?.isSymbolicLink != true else { continue }
                let relative = String(url.path.dropFirst(root.path.count).drop { $0 == "/" })
                let name = url.lastPathComponent
                if !include.isEmpty, !include.contains(where: { glob($0, matches: name) || glob($0, matches: relative) }) { continue }
                if exclude.contains(where: { glob($0, matches: name) || glob($0, matches: relative) }) { continue }
                found.append(path.hasSuffix("/") ? path + relative : path + "/" + relative)
            }
            inputs.files += found.sorted()
        }
        return inputs
    }

    static func glob(_ pattern: String, matches text: String) -> Bool {
        fnmatch(pattern, text, 0) == 0
    }
}

/// Which matches `vigil hunt` keeps.
struct HuntFilter {
    var since: Timestamp?
    var until: Timestamp?
    var minimumLevel: Severity?
    /// Rule ids, or words of a title (case-insensitive); any of them.
    var rules: [String]
    /// Tags (case-insensitive); any of them.
    var tags: [String]

    func admits(_ detection: Detection, at time: Timestamp) -> Bool {
        if let since, time < since { return false }
        if let until, time >= until { return false }
        if let minimumLevel, detection.severity < minimumLevel { return false }
        if !rules.isEmpty, !rules.contains(where: { $0 == detection.rule.id || detection.rule.title.localizedCaseInsensitiveContains($0) }) {
            return false
        }
        if !tags.isEmpty, !tags.contains(where: { wanted in detection.rule.tags.contains { $0.caseInsensitiveCompare(wanted) == .orderedSame } }) {
            return false
        }
        return true
    }
}

/// One file's outcome, for the summary on stderr.
struct HuntFileReport {
    var file: String
    var format = "-"
    var events = 0
    var rejected = 0
    var matches = 0
    var error: String?

    var line: String {
        if let error { return "\(file): skipped: \(error)" }
        return "\(file): \(format), \(events) events, \(rejected) rejected records, \(matches) matches"
    }
}

/// Opens `path` for writing, as a shell's `>` does: created if missing, else truncated and
/// written in place. A symlink is followed and a device or pipe written to; writing a new file
/// and renaming it over `path` (what `FileManager.createFile` does) replaced them instead, and
/// run as root it replaced /dev/null with a regular file.
func openForWriting(_ path: String, option: String) throws -> FileHandle {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
        throw CLIError("cannot write \(option) \(path): \(String(cString: strerror(errno))); check the folder exists and is writable")
    }
    return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
}

/// Where matches go: stdout or `--output`, streamed (jsonl, csv) or held for the table, the
/// JSON array and `--timeline`. Held rows are rendered as they come and kept by a
/// `SpillingSorter`, so memory stays bounded however many matches there are.
final class HuntOutput {
    private let handle: FileHandle
    private let format: OutputFormat
    private let timeline: Bool
    private let held: SpillingSorter?
    /// The table view's column widths so far (the table is written once every row is known).
    private var widths = HuntMatch.shownColumns.map(\.count)
    /// Output not yet written: rows go out 64 KiB at a time, not a system call each.
    private var pending: [UInt8] = []

    init(path: String?, format: OutputFormat, timeline: Bool) throws {
        self.format = format
        self.timeline = timeline
        // VIGIL_SORT_RUN_ROWS: rows sorted in memory before a run is spilled (default 50,000).
        let runLength = ProcessInfo.processInfo.environment["VIGIL_SORT_RUN_ROWS"].flatMap(Int.init).map { max(1, $0) } ?? 50_000
        held = timeline || format == .table || format == .json ? SpillingSorter(runLength: runLength) : nil
        if let path {
            handle = try openForWriting(path, option: "--output")
        } else {
            handle = .standardOutput
        }
        if format == .csv { write(HuntMatch.columns.joined(separator: ",")) }
    }

    func write(_ match: HuntMatch) throws {
        let rendered: String
        switch format {
        case .jsonl, .json: rendered = match.jsonLine
        case .csv: rendered = try csvRecords([match])[0]
        case .table:
            let cells = try tableCells(match)
            for (index, cell) in cells.enumerated() { widths[index] = max(widths[index], cell.count) }
            // Cells are terminal-safe: control characters are escaped, so U+001F cannot occur in one.
            rendered = cells.joined(separator: "\u{1F}")
        }
        guard let held else { return write(rendered) }
        try held.add(key: timeline ? match.time.microseconds : 0, payload: rendered)
    }

    /// Writes what was held, sorted by event time when `--timeline` (stable: file order breaks ties).
    func finish() throws {
        guard let held else { return }
        var rows = 0
        switch format {
        case .table:
            write(alignedLine(HuntMatch.shownColumns.map { $0.uppercased() }, widths: widths))
            try held.forEachSorted { write(alignedLine($0.components(separatedBy: "\u{1F}"), widths: widths)) }
        case .json:
            try held.forEachSorted { row in
                write((rows == 0 ? "[\n  " : ",\n  ") + row, newline: false)
                rows += 1
            }
            write(rows == 0 ? "[]" : "\n]")
        case .jsonl, .csv:
            try held.forEachSorted { write($0) }
        }
    }

    func writeSummary(_ rows: [HuntSummaryRow]) throws {
        if format == .csv { write(HuntSummaryRow.columns.joined(separator: ",")) }
        switch format {
        case .csv: for row in try csvRecords(rows) { write(row) }
        default: write(try render(rows, as: format))
        }
    }

    private func write(_ text: String, newline: Bool = true) {
        pending.append(contentsOf: text.utf8)
        if newline { pending.append(UInt8(ascii: "\n")) }
        if pending.count >= 1 << 16 { flush() }
    }

    /// Writes what is buffered.
    func flush() {
        guard !pending.isEmpty else { return }
        handle.write(Data(pending))
        pending.removeAll(keepingCapacity: true)
    }
}

/// Matches counted per rule, level, host and file, with first and last event times.
struct HuntTally {
    private(set) var matches = 0
    private(set) var events = 0
    private(set) var files = 0
    private var groups: [HuntSummaryRow.Key: HuntSummaryRow] = [:]

    mutating func add(_ match: HuntMatch, severity: Severity) {
        matches += 1
        for (group, key) in [("rule", match.title), ("level", match.severity), ("host", match.hostname), ("file", match.file)] {
            let id = HuntSummaryRow.Key(group: group, key: key)
            var row = groups[id] ?? HuntSummaryRow(group: group, key: key, level: severity, matches: 0, first: match.time, last: match.time)
            row.matches += 1
            row.first = min(row.first, match.time)
            row.last = max(row.last, match.time)
            row.level = max(row.level, severity)
            groups[id] = row
        }
    }

    mutating func finish(_ report: HuntFileReport) {
        events += report.events
        files += 1
    }

    /// Rules, levels, hosts, then files; most matches first within each.
    func summaryRows() -> [HuntSummaryRow] {
        let order = ["rule": 0, "level": 1, "host": 2, "file": 3]
        return groups.values.sorted {
            (order[$0.group] ?? 9, -$0.matches, $0.key) < (order[$1.group] ?? 9, -$1.matches, $1.key)
        }
    }
}

/// One line of `vigil hunt --summary`.
struct HuntSummaryRow: Listable {
    struct Key: Hashable {
        var group: String
        var key: String
    }

    /// `rule`, `level`, `host` or `file`.
    var group: String
    var key: String
    /// The highest level among its matches.
    var level: Severity
    var matches: Int
    var first: Timestamp
    var last: Timestamp

    enum CodingKeys: String, CodingKey, CaseIterable { case group, key, level, matches, first, last }

    func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(group, forKey: .group)
        try row.encode(key, forKey: .key)
        try row.encode(level.name, forKey: .level)
        try row.encode(matches, forKey: .matches)
        try row.encode(first, forKey: .first)
        try row.encode(last, forKey: .last)
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
    var techniques: [String]
    var tags: [String]
    var matchedFields: RawJSON

    /// `json`: the hunt's writer for matched fields, kept from match to match.
    init(detection: Detection, event: Event, file: String, json: inout FieldsJSONWriter) {
        ruleID = detection.rule.id
        title = detection.title
        severity = detection.severity.name
        self.file = file
        line = event.line
        hostname = event.machine.hostname
        time = event.time
        author = detection.rule.author
        techniques = detection.rule.attackTechniques
        tags = detection.rule.tags
        matchedFields = RawJSON(json.sortedObject(detection.matchedFields))
    }

    /// The match as one line of JSON, as `JSONEncoder.vigil` would write it (keys sorted) but
    /// written directly: a hunt writes a line per match, and the encoder cost more than detecting.
    var jsonLine: String {
        var writer = JSONObjectWriter()
        writer.member(CodingKeys.author.stringValue, author)
        writer.member(CodingKeys.file.stringValue, file)
        writer.member(CodingKeys.hostname.stringValue, hostname)
        writer.member(CodingKeys.line.stringValue, line)
        writer.member(CodingKeys.matchedFields.stringValue, matchedFields)
        writer.member(CodingKeys.techniques.stringValue, techniques)
        writer.member(CodingKeys.ruleID.stringValue, ruleID)
        writer.member(CodingKeys.severity.stringValue, severity)
        writer.member(CodingKeys.tags.stringValue, tags)
        writer.member(CodingKeys.time.stringValue, time.iso8601)
        writer.member(CodingKeys.title.stringValue, title)
        return writer.finish()
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case ruleID = "rule_id", title, severity, file, line, hostname, time, author, techniques = "mitre_techniques", tags
        case matchedFields = "matched_fields"
    }

    static let tableColumns = ["severity", "title", "mitre_techniques", "file", "line", "hostname", "time"]
}
