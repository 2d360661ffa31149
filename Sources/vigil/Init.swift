import ArgumentParser
import VigilPipeline
import VigilPostgres
import VigilStore

extension Vigil {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the database, or migrate it to this version.")

        @OptionGroup var store: StoreOptions
        @Option(name: .customLong("hunting-role"), help: ArgumentHelp(
            "PostgreSQL: let this login role (created by you) read the hunting views and nothing else.",
            discussion: "Hunting SQL on PostgreSQL runs as that role: name it in `vigil query --hunting-store` and `vigil serve --hunting-store`."))
        var huntingRole: String?

        func run() throws {
            if let url = try store.postgresURL() {
                let opened = try store.openPostgres(url)
                print("database \(url) is ready (PostgreSQL, schema version \(try opened.schemaVersion()))")
                if let huntingRole {
                    do { try opened.grantHunting(to: huntingRole, actor: currentActor) } catch { throw CLIError("\(error)") }
                    print("role \(huntingRole) may read the hunting views, and nothing else of the store")
                }
                return
            }
            if huntingRole != nil {
                throw ValidationError("--hunting-role is for a PostgreSQL store; on SQLite, hunting opens the file read-only and needs no role")
            }
            let opened = try store.open(creating: true)
            print("database \(opened.path) is ready (schema version \(try opened.schemaVersion()))")
        }
    }
}
