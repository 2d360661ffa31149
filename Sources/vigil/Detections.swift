import ArgumentParser
import Foundation
import VigilDetection
import VigilModel
import VigilPipeline
import VigilPostgres
import VigilStore

extension Vigil {
    struct DetectionsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "detections",
            abstract: "Custom detections: saved hunting queries that `vigil serve` runs on a schedule, raising an alert per row.",
            discussion: """
                The query is one SELECT over the hunting views (see `vigil query`) and must return an event_id column: \
                the stored event each alert cites, which gives the alert its machine and time. An optional key column \
                is the deduplication key: rows of one machine and key within an hour of an open alert fold into it. A \
                row whose event an alert of the detection already cites raises nothing again, so a query may look back \
                further than it runs.
                """,
            subcommands: [Add.self, List.self, Run.self, Enable.self, Disable.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Save a custom detection; `vigil serve` runs it at once, then every --every.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var hunting: HuntingStoreOptions
            @Argument(help: "A name: letters, digits, '-', '_' or '.'; its alerts' rule is custom:NAME.") var name: String
            @Option(help: "One SELECT over the hunting views, returning event_id (and optionally key).") var query: String
            @Option(help: "How often it runs (10m, 1h, 1d); 10 seconds to 366 days.") var every = DurationArgument(seconds: 3600)
            @Option(help: "Its alerts' severity.") var severity: Severity = .medium
            @Option(help: "Its alerts' title.") var title: String
            @Option(help: "A tag such as attack.t1110 (repeatable); attack.tNNNN tags become the alerts' MITRE techniques.") var tag: [String] = []

            func run() async throws {
                let opened = try store.openCustomDetections(creating: true)
                do {
                    if try store.postgresURL() != nil {
                        // The query runs once, as the hunting role, to check it and its columns.
                        let result = try await hunting.required().run(query, timeout: .seconds(30), rowCap: 1, byteCap: 1 << 20)
                        try CustomDetectionRun.requireEventID(result.columns)
                    } else {
                        try CustomDetectionRun.requireEventID(try HuntingQuery(path: store.path).columns(of: query))
                    }
                    try opened.addCustomDetection(CustomDetection(
                        name: name, title: title, query: query, every: every.duration, severity: severity, tags: tag, actor: currentActor))
                } catch let error as StoreError {
                    throw CLIError("the detection was not saved: \(error.message)")
                }
                print("custom detection \(name) saved: runs every \(every) under `vigil serve`, first at its next start or within 15 seconds")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every custom detection: schedule, severity, enabled, last run and its outcome.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                emit(try render(try store.openCustomDetections().customDetections().map(CustomDetectionListing.init), as: output.format))
            }
        }

        struct Run: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run custom detections now, without `vigil serve`: the named ones, else every enabled one that is due.",
                discussion: "Exits 75 while another process (such as `vigil serve`, which runs them itself) writes to the SQLite database; 1 when a run failed.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var hunting: HuntingStoreOptions
            @Option(help: "Stop each query after this long.") var timeout = DurationArgument(seconds: 30)
            @Argument(help: "Detection names; none runs every due one.") var names: [String] = []

            func run() async throws {
                let opened: any CustomDetectionStore
                let committer: BatchCommitter
                let read: (CustomDetection) async throws -> (rows: [CustomDetectionRow], truncated: Bool)
                var writerLock: WriterLock?
                if let url = try store.postgresURL() {
                    let engine = try hunting.required()
                    opened = try store.openPostgres(url)
                    do {
                        committer = BatchCommitter(writer: try PostgresWriter(url: url), correlator: Correlator(ruleSet: RuleSet(rules: [])))
                    } catch { throw CLIError("\(error)") }
                    read = { [timeout] in try await CustomDetectionRun.read($0, engine: engine, timeout: timeout.duration) }
                } else {
                    let sqlite = try store.open()
                    writerLock = try store.lockForWriting(sqlite, holder: "vigil detections run")
                    opened = sqlite
                    committer = BatchCommitter(store: sqlite)
                    read = { [path = store.path, timeout] in try CustomDetectionRun.read($0, databasePath: path, timeout: timeout.duration) }
                }
                defer { withExtendedLifetime(writerLock) {} }
                let all = try opened.customDetections()
                let chosen: [CustomDetection]
                if names.isEmpty {
                    chosen = try opened.dueCustomDetections(at: .now())
                } else {
                    chosen = try names.map { name in
                        guard let detection = all.first(where: { $0.name == name }) else {
                            throw CLIError("no custom detection is named '\(name)'; see vigil detections list")
                        }
                        return detection
                    }
                }
                var failed = false
                for detection in chosen {
                    let ranAt = Timestamp.now()
                    do {
                        let (rows, truncated) = try await read(detection)
                        print("\(detection.name): \(try committer.raise(detection, rows: rows, truncated: truncated, ranAt: ranAt))")
                    } catch let error as StoreError {
                        failed = true
                        try committer.recordFailedRun(detection, reason: error.message, ranAt: ranAt)
                        writeStderr("\(detection.name): failed: \(error.message)")
                    }
                }
                if chosen.isEmpty { print("no custom detection is due") }
                if failed { throw ExitCode.failure }
            }
        }

        struct Enable: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Turn a custom detection back on; it runs at once.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The detection's name.") var name: String

            func run() throws {
                try setEnabled(true, name: name, store: store)
                print("custom detection \(name) is enabled")
            }
        }

        struct Disable: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Stop running a custom detection; its alerts stay.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The detection's name.") var name: String

            func run() throws {
                try setEnabled(false, name: name, store: store)
                print("custom detection \(name) is disabled")
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a custom detection; its alerts stay.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The detection's name.") var name: String

            func run() throws {
                do { try store.openCustomDetections().removeCustomDetection(name, actor: currentActor) } catch let error as StoreError { throw CLIError(error.message) }
                print("custom detection \(name) removed")
            }
        }
    }
}

private func setEnabled(_ enabled: Bool, name: String, store: StoreOptions) throws {
    do { try store.openCustomDetections().setCustomDetection(name, enabled: enabled, actor: currentActor) } catch let error as StoreError { throw CLIError(error.message) }
}

/// One custom detection in `vigil detections list`.
struct CustomDetectionListing: Listable {
    var detection: CustomDetection

    enum CodingKeys: String, CodingKey, CaseIterable { case name, title, every, severity, enabled, next_run, last_run, last_outcome, query }

    func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(detection.name, forKey: .name)
        try row.encode(detection.title, forKey: .title)
        try row.encode(DurationArgument(seconds: detection.every.components.seconds).description, forKey: .every)
        try row.encode(detection.severity.name, forKey: .severity)
        try row.encode(detection.enabled, forKey: .enabled)
        try row.encode(detection.nextRunAt, forKey: .next_run)
        try row.encode(detection.lastRunAt, forKey: .last_run)
        try row.encode(detection.lastOutcome, forKey: .last_outcome)
        try row.encode(detection.query, forKey: .query)
    }
}
