import ArgumentParser
import VigilPipeline
import VigilPostgres
import VigilStore

extension Vigil {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the database, or migrate it to this version.")

        @OptionGroup var store: StoreOptions

        func run() throws {
            if let url = try store.postgresURL() {
                let opened = try store.openPostgres(url)
                print("database \(url) is ready (PostgreSQL, schema version \(try opened.schemaVersion()))")
                return
            }
            let opened = try store.open(creating: true)
            print("database \(opened.path) is ready (schema version \(try opened.schemaVersion()))")
        }
    }
}
