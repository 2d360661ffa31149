import ArgumentParser
import VigilPipeline

/// The `vigil` command line.
@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Alert correlation for Linux, macOS, iOS and Android sensor data.",
        discussion: """
            Exit codes: 0 success, 1 failure, 3 refused by the ingest gate, 64 bad usage,
            75 another Vigil process is writing to the database (retry later).
            The database is --db PATH, else $VIGIL_DB, else ./vigil.sqlite.
            """,
        subcommands: [
            Init.self, Import.self, Alerts.self, AlertCommand.self, Incidents.self, IncidentCommand.self, Machines.self, Events.self, Imports.self, Rejected.self, IntegrationCommand.self,
            RulesCommand.self, DetectionsCommand.self, Hunt.self, Query.self, Serve.self, NotifyCommand.self, Deliver.self, APIKeyCommand.self, Bench.self, CompatibilityCommand.self, Audit.self, Check.self, Backup.self, Purge.self, DetectionTest.self, Demo.self,
        ]
    )
}
