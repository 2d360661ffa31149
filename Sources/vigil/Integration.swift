import ArgumentParser
import VigilStore

extension Vigil {
    struct IntegrationCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "integration",
            abstract: "Third-party integrations: list them, turn them on or off.",
            subcommands: [List.self, On.self, Off.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List integrations with their state and traffic.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                let rows = try store.open().integrations()
                var table = OutputTable(
                    columns: ["name", "display_name", "platforms", "formats", "enabled", "since", "active_tokens",
                              "last_data_at", "events_received", "events_refused"],
                    tableColumns: ["name", "platforms", "enabled", "since", "active_tokens", "last_data_at", "events_received", "events_refused"])
                table.rows = rows.map { row in
                    [.text(row.name), .text(row.displayName), .text(row.platforms.joined(separator: ",")),
                     .text(row.formats.joined(separator: ",")), .text(row.enabled ? "on" : "off"), OutputValue(row.enabledChangedAt),
                     .integer(Int64(row.activeTokens)), OutputValue(row.lastDataAt), .integer(row.eventsReceived), .integer(row.eventsRefused)]
                }
                emit(table.render(output.format))
            }
        }

        struct On: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Turn an integration on, so its data is accepted.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The integration's name.") var name: String

            func run() throws {
                do {
                    try store.open().setIntegration(name, enabled: true, actor: currentActor)
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                print("integration \(name) is on")
            }
        }

        struct Off: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Turn an integration off: its data is refused and its tokens are revoked. Stored data stays queryable.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The integration's name.") var name: String

            func run() throws {
                do {
                    try store.open().setIntegration(name, enabled: false, actor: currentActor)
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                print("integration \(name) is off; its tokens are revoked")
            }
        }
    }
}
