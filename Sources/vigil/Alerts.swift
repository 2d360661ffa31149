import ArgumentParser
import VigilPipeline
import Foundation
import VigilModel
import VigilPostgres
import VigilStore

extension OSPlatform: ExpressibleByArgument {}

extension Severity: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

extension AlertFilter.Sort: ExpressibleByArgument {}

/// The alert filters shared by `vigil alerts` and `vigil alert update --where …`: the same
/// names and parser as `GET /api/v1/alerts`'s query (`AlertFilter(parameters:)`).
struct AlertFilterOptions: ParsableArguments {
    @Option(help: "Only this OS platform (linux, macos, ios, android, windows, unknown).") var os: String?
    @Option(help: "Minimum severity.") var severity: String?
    @Option(name: .customLong("severity-in"), help: "Only these severities, comma-separated (high,critical).") var severityIn: String?
    @Option(help: "Only this status (new, in_progress, resolved).") var status: String?
    @Option(help: "Only this classification (true_positive, false_positive, informational_expected_activity).") var classification: String?
    @Option(help: "Last event at or after (ISO 8601, or 30m, 24h, 7d).") var since: String?
    @Option(help: "Last event at or before.") var until: String?
    @Option(name: .customLong("first-since"), help: "First event at or after.") var firstSince: String?
    @Option(name: .customLong("first-until"), help: "First event at or before.") var firstUntil: String?
    @Option(name: .customLong("created-since"), help: "Alert created at or after.") var createdSince: String?
    @Option(name: .customLong("created-until"), help: "Alert created at or before.") var createdUntil: String?
    @Option(help: "Only this machine (hostname or id).") var machine: String?
    @Option(help: "Only this rule (id or title).") var rule: String?
    @Option(help: "Only this MITRE ATT&CK technique (T1059 includes its sub-techniques).") var technique: String?
    @Option(help: "Only this integration (the detection source).") var integration: String?
    @Option(help: "Only alerts of this incident.") var incident: String?
    @Option(help: "Words to find in the title or the rule's description.") var search: String?

    /// Checked while parsing, so a bad value is answered with the usage line.
    func validate() throws {
        _ = try filter()
    }

    func filter() throws -> AlertFilter {
        let given: [(String, String?)] = [
            ("os", os), ("severity", severity), ("severity_in", severityIn), ("status", status), ("classification", classification),
            ("since", since), ("until", until), ("first_since", firstSince), ("first_until", firstUntil), ("created_since", createdSince),
            ("created_until", createdUntil), ("machine", machine), ("rule", rule), ("technique", technique), ("integration", integration),
            ("incident", incident), ("search", search),
        ]
        do {
            return try AlertFilter(parameters: Dictionary(uniqueKeysWithValues: given.compactMap { name, value in value.map { (name, $0) } }),
                                   spell: { "--" + $0.replacingOccurrences(of: "_", with: "-") })
        } catch {
            throw ValidationError(error.description)
        }
    }
}

extension Vigil {
    struct Alerts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List alerts from the unified alert view across every OS and source.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var filters: AlertFilterOptions
        @Option(help: "Sort by.") var sort: AlertFilter.Sort = .lastEvent
        @Flag(help: "Oldest or lowest first.") var ascending = false
        @Option(help: "At most this many alerts (at most 1000).") var limit = 100
        @Option(help: "Skip this many alerts (paging).") var offset = 0
        @Flag(help: "Show counts by severity and OS platform instead of alerts.") var summary = false

        func validate() throws {
            if limit <= 0 || limit > AlertFilter.pageCap { throw ValidationError("--limit must be between 1 and \(AlertFilter.pageCap)") }
            if offset < 0 { throw ValidationError("--offset must not be negative") }
        }

        func run() throws {
            var filter = try filters.filter()
            filter.sort = sort
            filter.ascending = ascending
            filter.limit = limit
            filter.offset = offset
            let opened = try store.openAlerts()
            if summary {
                let rows = try opened.alertSummary(filter).map { AlertCount(severity: $0.severity.name, osPlatform: $0.platform, count: $0.count) }
                emit(try render(rows, as: output.format))
                return
            }
            emit(try render(try opened.alerts(filter), as: output.format))
        }
    }
}


/// One line of `vigil alerts --summary`.
struct AlertCount: Listable {
    var severity: String
    var osPlatform: String
    var count: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case severity, osPlatform = "os_platform", count }
}
