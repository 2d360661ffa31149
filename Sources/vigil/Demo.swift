import ArgumentParser
import Foundation
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

extension Vigil {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a fresh demo database from realistic multi-OS events and show the unified alert view.")

        @Option(help: "The demo database (replaced if it exists).")
        var db = "vigil-demo.sqlite"

        @OptionGroup var output: OutputOptions

        func run() throws {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
            let store: Store
            do { store = try Store(path: db) } catch { throw CLIError(error.description) }
            try store.setIntegration("json", enabled: true, actor: currentActor)
            let input = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-demo-\(getpid()).ndjson").path
            defer { try? FileManager.default.removeItem(atPath: input) }
            let lines = DemoData.lines(endingAt: Timestamp.now())
            guard FileManager.default.createFile(atPath: input, contents: Data((lines.joined(separator: "\n") + "\n").utf8)) else {
                throw CLIError("cannot write the demo input to \(input)")
            }
            let pipeline = ImportPipeline(store: store, ruleSet: RuleSet.defaultRules())
            let summary = try pipeline.importFiles([input], format: .fixed(.json), integration: "json", actor: currentActor)
            writeStderr("demo database: \(db) (use --db \(db) with any command to explore it)")
            writeStderr("imported \(summary.recordsRead) events from 5 machines: \(summary.outcome.stored) stored, \(summary.outcome.alertsRaised) alerts")
            emit(try render(try store.alerts(AlertFilter()), as: output.format))
        }
    }
}
