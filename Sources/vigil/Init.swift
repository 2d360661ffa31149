import ArgumentParser
import VigilPipeline
import VigilStore

extension Vigil {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the database, or migrate it to this version.")

        @OptionGroup var store: StoreOptions

        func run() throws {
            let opened = try store.open(creating: true)
            print("database \(opened.path) is ready (schema version \(try opened.schemaVersion()))")
        }
    }
}
