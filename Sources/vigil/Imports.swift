import ArgumentParser
import VigilModel
import VigilPipeline
import VigilStore

extension Vigil {
    struct Imports: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List imports (files, stdin and HTTP pushes), newest first, with their totals and status.",
            discussion: "Status is running, completed, failed, or interrupted: the importing process died; rerun the same import to finish it, duplicates are skipped.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Show at most this many imports.") var limit = 100

        func validate() throws {
            if !(1...10_000).contains(limit) { throw ValidationError("--limit must be 1…10000") }
        }

        func run() throws {
            emit(try render(try store.openAlerts().imports(limit: limit), as: output.format))
        }
    }

    struct Rejected: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List records that imports could not use, with their line and the reason.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(name: .customLong("import"), help: "Only this import's records (see `vigil imports`).") var importID: Int64?
        @Option(help: "Show at most this many records.") var limit = 1_000

        func validate() throws {
            if !(1...100_000).contains(limit) { throw ValidationError("--limit must be 1…100000") }
        }

        func run() throws {
            emit(try render(try store.openAlerts().rejectedRecords(importID: importID, limit: limit), as: output.format))
        }
    }
}
