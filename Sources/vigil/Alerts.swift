import ArgumentParser
import VigilModel
import VigilStore

extension OSPlatform: ExpressibleByArgument {}

extension Severity: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

extension Vigil {
    struct Alerts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alerts from the unified alert view, newest first.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: "Only this OS platform.") var os: OSPlatform?
        @Option(help: "Minimum severity.") var severity: Severity?
        @Option(help: "Only this status (new, in_progress, resolved).") var status: String?
        @Option(help: "Alerts with events at or after this time (ISO 8601, or 30m, 24h, 7d).") var since: String?
        @Option(help: "Alerts with events at or before this time.") var until: String?
        @Option(help: "Only this machine (hostname).") var machine: String?
        @Option(help: "Only this rule (id or title).") var rule: String?
        @Option(help: "At most this many alerts.") var limit = 100

        func validate() throws {
            if limit <= 0 { throw ValidationError("--limit must be positive") }
            if let status, !["new", "in_progress", "resolved"].contains(status) {
                throw ValidationError("--status must be new, in_progress or resolved")
            }
        }

        func run() throws {
            let filter = AlertFilter(
                platform: os, minimumSeverity: severity, status: status,
                since: try since.map { try parseTimeArgument($0, option: "--since") },
                until: try until.map { try parseTimeArgument($0, option: "--until") },
                machine: machine, rule: rule, limit: limit)
            let rows = try store.open().alerts(filter)
            emit(alertTable(rows).render(output.format))
        }
    }
}

func alertTable(_ rows: [AlertRow]) -> OutputTable {
    var table = OutputTable(
        columns: ["id", "rule_id", "title", "severity", "status", "classification", "determination", "assigned_to",
                  "hostname", "os_platform", "os_version", "event_count", "first_event_time", "last_event_time",
                  "incident_id", "integration", "author", "mitre_techniques", "matched_fields"],
        tableColumns: ["id", "severity", "status", "title", "hostname", "os_platform", "event_count", "last_event_time", "integration"])
    table.rows = rows.map { alert in
        [.integer(alert.id), .text(alert.ruleID), .text(alert.title), .text(alert.severity.name), .text(alert.status),
         OutputValue(alert.classification), OutputValue(alert.determination), OutputValue(alert.assignedTo),
         .text(alert.hostname), .text(alert.osPlatform), OutputValue(alert.osVersion), .integer(alert.eventCount),
         OutputValue(alert.firstEventTime), OutputValue(alert.lastEventTime), alert.incidentID.map(OutputValue.integer) ?? .null,
         .text(alert.integration), .text(alert.author), .text(alert.techniques.joined(separator: ",")), .json(alert.matchedFields)]
    }
    return table
}
