import ArgumentParser
import Foundation
import VigilTooling
import VigilIngest
import VigilPipeline
import VigilPostgres
import VigilStore
import VigilDetection

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
        @Option(name: .customLong("store"), help: ArgumentHelp(
            "Compare the import into SQLite with one into PostgreSQL: postgresql://user@host[:port]/database.",
            discussion: "A scratch database is created on that server (the user needs CREATEDB) and dropped afterwards; both imports run the same workload in this run."))
        var postgres: String?

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
            if let postgres {
                try comparePostgres(postgres, ruleSet: ruleSet)
                return
            }
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

extension Vigil.Bench {
    /// The same workload imported into SQLite and into a scratch PostgreSQL database, one after
    /// the other in this run: events per second and this process's CPU per event for each.
    fileprivate func comparePostgres(_ text: String, ruleSet: RuleSet) throws {
        let server: PostgresURL
        do { server = try PostgresURL(text, environment: ProcessInfo.processInfo.environment) } catch { throw ValidationError(error.description) }
        let directory = TemporaryDirectory()
        let files = try BenchWorkload.write(events: events, to: directory.url, formats: format.isEmpty ? nil : format)
        let admin: PostgresSession
        var scratch = server
        scratch.database = "vigil_bench_\(UInt32.random(in: 0..<UInt32.max))"
        do {
            admin = try PostgresSession(url: server)
            try admin.execute("CREATE DATABASE \(scratch.database)")
        } catch { throw CLIError("cannot create a scratch database on \(server): \(error)") }
        defer { _ = try? admin.execute("DROP DATABASE IF EXISTS \(scratch.database) WITH (FORCE)") }

        let sqlite = try Store(path: directory.path("bench.sqlite"))
        let sqliteRun = try Self.timedImport(files, target: sqlite, writer: StoreWriter(store: sqlite), ruleSet: ruleSet)
        let postgres = try PostgresStore(url: scratch)
        let postgresRun = try Self.timedImport(files, target: postgres, writer: PostgresWriter(url: scratch), ruleSet: ruleSet)
        if json {
            print(#"{"events":\#(sqliteRun.events),"sqlite_events_per_s":\#(Int(sqliteRun.rate)),"postgresql_events_per_s":\#(Int(postgresRun.rate)),"# +
                  #""sqlite_cpu_us_per_event":\#(String(format: "%.1f", sqliteRun.cpuPerEvent * 1e6)),"# +
                  #""postgresql_cpu_us_per_event":\#(String(format: "%.1f", postgresRun.cpuPerEvent * 1e6)),"# +
                  #""postgresql_to_sqlite":\#(String(format: "%.3f", postgresRun.rate / sqliteRun.rate))}"#)
            return
        }
        print("""
            events stored           \(sqliteRun.events) (SQLite), \(postgresRun.events) (PostgreSQL)
            import into SQLite      \(String(format: "%8.0f", sqliteRun.rate)) events/s   \(String(format: "%6.1f", sqliteRun.cpuPerEvent * 1e6)) µs CPU per event in vigil
            import into PostgreSQL  \(String(format: "%8.0f", postgresRun.rate)) events/s   \(String(format: "%6.1f", postgresRun.cpuPerEvent * 1e6)) µs CPU per event in vigil (the server's CPU is not counted)
            PostgreSQL ÷ SQLite     \(String(format: "%.2f", postgresRun.rate / sqliteRun.rate))
            """)
    }

    /// Imports every workload file through its integration; events stored, events per second and CPU seconds per event.
    private static func timedImport(_ files: [(format: SourceFormat, path: String)], target: some ImportTarget & IntegrationsAndTokens,
                                    writer: any BatchWriter, ruleSet: RuleSet) throws -> (events: Int, rate: Double, cpuPerEvent: Double) {
        for integration in try target.integrations() { try target.setIntegration(integration.name, enabled: true, actor: "bench") }
        let pipeline = ImportPipeline(target: target, writer: writer, ruleSet: ruleSet)
        let cpuBefore = ProcessMemory.cpuSeconds()
        let started = ContinuousClock.now
        var stored = 0
        for file in files {
            let integration = try target.integrations().first { $0.formats.contains(file.format.rawValue) }?.name ?? "json"
            stored += try pipeline.importFiles([file.path], format: .fixed(file.format), integration: integration, actor: "bench").outcome.stored
        }
        let seconds = (ContinuousClock.now - started).seconds
        return (stored, Double(stored) / seconds, (ProcessMemory.cpuSeconds() - cpuBefore) / Double(max(stored, 1)))
    }
}
