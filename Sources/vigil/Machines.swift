import ArgumentParser
import VigilStore

extension Vigil {
    struct Machines: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the machines that have sent data.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let rows = try store.open().machines()
            var table = OutputTable(columns: ["id", "hostname", "os_platform", "os_version", "supported", "status", "first_seen",
                                              "last_seen", "last_integration", "event_count", "alert_count"])
            table.rows = rows.map { machine in
                [.integer(machine.id), .text(machine.hostname), .text(machine.osPlatform), OutputValue(machine.osVersion),
                 machine.supported.map { .json($0 ? "true" : "false") } ?? .null, .text(machine.active ? "active" : "inactive"),
                 OutputValue(machine.firstSeen), OutputValue(machine.lastSeen), OutputValue(machine.lastIntegration),
                 .integer(machine.eventCount), .integer(machine.alertCount)]
            }
            emit(table.render(output.format))
        }
    }
}
