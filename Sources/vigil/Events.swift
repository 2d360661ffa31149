import ArgumentParser
import VigilPipeline
import VigilStore

extension Vigil {
    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stored events, newest first.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: "Only this machine (hostname).") var machine: String?
        @Option(help: "Only this Sigma category (process_creation, file_event, antivirus, …).") var category: String?
        @Option(help: "Events at or after this time (ISO 8601, or 30m, 24h, 7d).") var since: String?
        @Option(help: "Events at or before this time.") var until: String?
        @Option(help: "At most this many events.") var limit = 100

        func validate() throws {
            if limit <= 0 { throw ValidationError("--limit must be positive") }
            _ = try since.map { try parseTimeArgument($0, option: "--since") }
            _ = try until.map { try parseTimeArgument($0, option: "--until") }
        }

        func run() throws {
            let filter = EventFilter(
                machine: machine, category: category,
                since: try since.map { try parseTimeArgument($0, option: "--since") },
                until: try until.map { try parseTimeArgument($0, option: "--until") }, limit: limit)
            emit(try render(try store.openAlerts().events(filter), as: output.format))
        }
    }
}
