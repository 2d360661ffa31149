import ArgumentParser
import Foundation
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilPostgres
import VigilStore

extension FormatChoice: ExpressibleByArgument {
    public init?(argument: String) {
        if argument == "auto" { self = .auto }
        else if let format = SourceFormat(rawValue: argument) { self = .fixed(format) }
        else { return nil }
    }

    public var defaultValueDescription: String { self == .auto ? "auto" : "" }
    public static var allValueStrings: [String] { ["auto"] + SourceFormat.allCases.map(\.rawValue) }
}

extension SourceFormat: ExpressibleByArgument {}

extension Vigil {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import event logs through an integration: parse, detect, correlate and store.",
            discussion: "FILE may be plain or gzip-compressed; `-` reads stdin. Malformed records are counted and kept with their line numbers; the rest still land."
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "The integration the data comes through (see `vigil integration list`).")
        var integration: String

        @Option(help: "The source format; `auto` detects it from each file's first records.")
        var format: FormatChoice = .auto

        @Option(help: "The machine for records that name none (ClamAV scan logs, Santa, eslogger); default: this host's name.")
        var hostname: String?

        @Option(help: "The platform of the machines in these files (linux, macos, ios, android), for records that do not say or say wrongly.")
        var platform: String?

        @Flag(help: "Store a record whose time cannot be read at the import's time, flagged `vigil_ingest_time`, instead of rejecting it.")
        var acceptIngestTime = false

        @OptionGroup var ruleOptions: RuleOptions

        @OptionGroup var correlationOptions: CorrelationOptions

        @Flag(help: "Print the summary as one JSON object.")
        var json = false

        @Argument(help: "Files to import (`-` for stdin).")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("name at least one FILE to import, or `-` for stdin") }
            if let platform, !["linux", "macos", "ios", "android"].contains(platform) {
                throw ValidationError("--platform must be linux, macos, ios or android, not '\(platform)'")
            }
            if let hostname, hostname.allSatisfy(\.isWhitespace) {
                throw ValidationError("--hostname must name a machine; leave it out to use this host's name")
            }
        }

        func run() throws {
            let pipeline: ImportPipeline
            // Kept open until the import ends: SQLite's writer lock, or PostgreSQL's correlator role.
            let lease: AnyObject
            if let url = try store.postgresURL() {
                let opened = try store.openPostgres(url)
                let ruleSet = try ruleOptions.load(stored: opened.storedRules()).excluding(ids: opened.disabledRuleIDs())
                // Imports on PostgreSQL run side by side; those with correlation rules take turns with the
                // correlation windows they load and save.
                if !ruleSet.correlations.isEmpty { try opened.acquireCorrelator(wait: true) }
                let writer: PostgresWriter
                do { writer = try PostgresWriter(url: url) } catch { throw CLIError("\(error)") }
                pipeline = ImportPipeline(target: opened, writer: writer, ruleSet: ruleSet, maxFutureSkew: correlationOptions.maxFutureSkew.duration)
                lease = opened
            } else {
                let opened = try store.open(creating: true)
                lease = try store.lockForWriting(opened, holder: "vigil import")
                let ruleSet = try ruleOptions.load(stored: opened.storedRules()).excluding(ids: opened.disabledRuleIDs())
                pipeline = ImportPipeline(store: opened, ruleSet: ruleSet, maxFutureSkew: correlationOptions.maxFutureSkew.duration)
            }
            defer { withExtendedLifetime(lease) {} }
            let bar = ProgressBar()
            let summary: ImportSummary
            do {
                summary = try pipeline.importFiles(
                    files, format: format, integration: integration, actor: currentActor,
                    defaultHostname: hostname ?? ProcessInfo.processInfo.hostName, acceptIngestTime: acceptIngestTime,
                    platform: platform.flatMap(OSPlatform.init(rawValue:))) { bar.update($0) }
            } catch let refusal as IngestGate.Refusal {
                writeStderr("error: \(refusal.description)")
                throw ExitCode(3)
            } catch {
                bar.finish()
                throw CLIError("the import failed: \(error). Batches committed before the failure are kept; rerun the import to finish it, duplicates are skipped.")
            }
            bar.finish()
            printSummary(summary, json: json)
            if hostname == nil, summary.defaultHostnameEvents > 0 {
                writeStderr("warning: \(summary.defaultHostnameEvents) events name no machine and were stored under this host's name, "
                    + "'\(ProcessInfo.processInfo.hostName)'; name their machine with --hostname")
            }
            if let warning = RegexBudget.warning { writeStderr(warning) }
        }
    }
}

func printSummary(_ summary: ImportSummary, json: Bool) {
    let outcome = summary.outcome
    if json {
        print("{\"formats\":[\(summary.formats.map { "\"\($0.rawValue)\"" }.joined(separator: ","))],\"records_read\":\(summary.recordsRead),\"skipped\":\(summary.skipped),\"events_parsed\":\(summary.eventsParsed),\"events_stored\":\(outcome.stored),\"rejected\":\(outcome.rejected),\"duplicates\":\(outcome.duplicates),\"alerts_raised\":\(outcome.alertsRaised),\"alerts_updated\":\(outcome.alertsUpdated),\"future_dated\":\(outcome.futureDated),\"ingest_timed\":\(outcome.ingestTimed),\"elapsed_s\":\(String(format: "%.3f", summary.elapsedSeconds)),\"events_per_s\":\(Int(summary.eventsPerSecond)),\"peak_rss_bytes\":\(ProcessMemory.peakResidentBytes())}")
        return
    }
    print("""
        format            \(summary.formats.map(\.rawValue).joined(separator: ", "))
        records read      \(summary.recordsRead)
        skipped           \(summary.skipped) (records that carry no event)
        events parsed     \(summary.eventsParsed)
        events stored     \(outcome.stored)
        rejected          \(outcome.rejected)
        duplicates        \(outcome.duplicates)
        alerts raised     \(outcome.alertsRaised) (and \(outcome.alertsUpdated) repeat detections folded into open alerts)
        future-dated      \(outcome.futureDated) (stored and flagged future_time; they never move correlation time)
        ingest-timed      \(outcome.ingestTimed) (records with no readable time, stored at ingest time and flagged vigil_ingest_time)
        elapsed           \(String(format: "%.2f", summary.elapsedSeconds)) s (\(Int(summary.eventsPerSecond)) events/s)
        peak memory       \(ProcessMemory.peakResidentBytes() / 1_048_576) MiB
        """)
    for record in summary.rejectedSample {
        writeStderr("rejected line \(record.line): \(record.reason)")
    }
    if outcome.rejected > summary.rejectedSample.count {
        writeStderr("… \(outcome.rejected - summary.rejectedSample.count) more rejected records are stored in the rejected_records table")
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
final class ProgressBar {
    private let enabled = isatty(STDERR_FILENO) == 1
    private var lastDraw = 0.0
    private var drawn = false

    func update(_ progress: ImportProgress) {
        guard enabled, progress.elapsedSeconds - lastDraw >= 0.2 else { return }
        lastDraw = progress.elapsedSeconds
        var line = "\r"
        if let total = progress.totalBytes, total > 0 {
            let fraction = min(1, Double(progress.bytesRead) / Double(total))
            let filled = Int(fraction * 30)
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled) + "] "
            line += String(format: "%3.0f%% ", fraction * 100)
        }
        let rate = progress.elapsedSeconds > 0 ? Double(progress.recordsRead) / progress.elapsedSeconds : 0
        line += "\(progress.recordsRead) records, \(Int(rate)) records/s"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    private let started = ContinuousClock.now

    /// Draws `text` as the bar (at most five times a second).
    func update(text: String) {
        let elapsed = elapsedSeconds
        guard enabled, elapsed - lastDraw >= 0.2 else { return }
        lastDraw = elapsed
        FileHandle.standardError.write(Data("\r\(text)\u{1B}[K".utf8))
        drawn = true
    }

    /// Seconds since the bar was made.
    var elapsedSeconds: Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }
}
