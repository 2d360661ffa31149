import ArgumentParser
import VigilPipeline
import VigilStore

extension Vigil {
    struct Machines: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the machines that have sent data.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let rows = try store.openAlerts().machines()
            emit(try render(rows, as: output.format))
        }
    }
}
