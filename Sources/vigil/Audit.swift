import ArgumentParser
import VigilPipeline
import VigilStore

extension Vigil {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The audit log: toggles, tokens, refused ingests and alert changes, newest first.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this action or family (integration, token.create, ingest.refused, …).") var action: String?
        @Option(help: "Only this target (an integration name, an alert id).") var target: String?
        @Option(help: "Entries at or after this time (ISO 8601, or 30m, 24h, 7d).") var since: String?
        @Option(help: "At most this many entries.") var limit = 100

        func validate() throws {
            _ = try since.map { try parseTimeArgument($0, option: "--since") }
        }

        func run() throws {
            let rows = try store.openAlerts().audit(action: action, target: target,
                                              since: try since.map { try parseTimeArgument($0, option: "--since") }, limit: limit)
            emit(try render(rows, as: output.format))
        }
    }
}
