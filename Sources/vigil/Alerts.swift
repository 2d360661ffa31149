import ArgumentParser
import VigilPipeline
import Foundation
import VigilModel
import VigilStore

extension OSPlatform: ExpressibleByArgument {}

extension Severity: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
    public static var allValueStrings: [String] { allCases.map(\.name) }
}

extension AlertFilter.Sort: ExpressibleByArgument {}

/// The alert filters shared by `vigil alerts` and `vigil alert update --where …`.
struct AlertFilterOptions: ParsableArguments {
    @Option(help: "Only this OS platform.") var os: OSPlatform?
    @Option(help: "Minimum severity.") var severity: Severity?
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
    @Option(help: "Only alerts of this incident.") var incident: Int64?
    @Option(help: "Words to find in the title or the rule's description.") var search: String?

    func validate() throws {
        if let status, AlertUpdate.canonical(status, in: AlertUpdate.statuses) == nil {
            throw ValidationError("--status must be one of \(AlertUpdate.statuses.joined(separator: ", "))")
        }
        if let classification, AlertUpdate.canonical(classification, in: AlertUpdate.classifications) == nil {
            throw ValidationError("--classification must be one of \(AlertUpdate.classifications.joined(separator: ", "))")
        }
        for name in severityIn?.split(separator: ",") ?? [] where Severity(name: String(name)) == nil {
            throw ValidationError("--severity-in: unknown severity '\(name)'")
        }
        // Times are checked while parsing, so a bad one is answered with the usage line.
        _ = try filter()
    }

    func filter() throws -> AlertFilter {
        var filter = AlertFilter(platform: os, minimumSeverity: severity,
                                 status: status.flatMap { AlertUpdate.canonical($0, in: AlertUpdate.statuses) }, machine: machine, rule: rule)
        filter.severities = severityIn.map { Set($0.split(separator: ",").compactMap { Severity(name: String($0)) }) }
        filter.classification = classification.flatMap { AlertUpdate.canonical($0, in: AlertUpdate.classifications) }
        let time = { (text: String?, option: String) in try text.map { try parseTimeArgument($0, option: option) } }
        filter.since = try time(since, "--since")
        filter.until = try time(until, "--until")
        filter.firstSince = try time(firstSince, "--first-since")
        filter.firstUntil = try time(firstUntil, "--first-until")
        filter.createdSince = try time(createdSince, "--created-since")
        filter.createdUntil = try time(createdUntil, "--created-until")
        filter.technique = technique
        filter.integration = integration
        filter.incident = incident
        filter.text = search
        return filter
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
            let opened = try store.open()
            if summary {
                var table = OutputTable(columns: ["severity", "os_platform", "count"])
                table.rows = try opened.alertSummary(filter).map { [.text($0.severity.name), .text($0.platform), .integer(Int64($0.count))] }
                emit(table.render(output.format))
                return
            }
            emit(alertTable(try opened.alerts(filter)).render(output.format))
        }
    }
}

