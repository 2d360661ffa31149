import ArgumentParser
import VigilPipeline
import Foundation
import VigilModel
import VigilStore

extension Vigil {
    struct AlertCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "alert", abstract: "Show or triage alerts.", subcommands: [Show.self, Update.self])

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every field of an alert, its events with their raw records, its incident and its history.")
            @OptionGroup var store: StoreOptions
            @Option(help: "Output format: table (readable text) or json.") var format: OutputFormat = .table
            @Argument(help: "The alert id.") var id: Int64

            func run() throws {
                guard let detail = try AlertDetail(id: id, from: store.openAlerts()) else { throw CLIError("there is no alert \(id); see `vigil alerts`") }
                if format == .json || format == .jsonl {
                    print(try jsonLine(detail))
                    return
                }
                let (alert, events, incident, comments, history) = (detail.alert, detail.events, detail.incident, detail.comments, detail.history)
                let cells = try ColumnEncoder.cells(of: alert)
                for column in AlertRow.columns {
                    print(column.padding(toLength: 18, withPad: " ", startingAt: 0) + (cells[column] ?? "").terminalSafe)
                }
                print("description       \(alert.description.terminalSafe)")
                if !detail.laterAlertIDs.isEmpty {
                    print("followed by       " + detail.laterAlertIDs.map { "alert \($0)" }.joined(separator: ", ")
                          + " (detections after this alert was resolved or past its window; see `vigil alert show ID`)")
                }
                if let incident {
                    print("\nincident \(incident.id): \(incident.title.terminalSafe) [\(incident.status)]")
                    for reason in incident.reason.split(separator: "\n") { print("  grouped: \(String(reason).terminalSafe)") }
                }
                print("\nevents (\(events.count)):")
                for event in events { print("  \(event.time.iso8601)  \((event.category ?? "-").terminalSafe)  \(event.raw.terminalSafe)") }
                if !comments.isEmpty {
                    print("\ncomments:")
                    for comment in comments { print("  \(comment.createdAt.iso8601)  \(comment.author.terminalSafe): \(comment.text.terminalSafe)") }
                }
                print("\nhistory:")
                print("  \(alert.createdAt.iso8601)  vigil: alert raised")
                for entry in history { print("  \(entry.time.iso8601)  \(entry.actor.terminalSafe): \(entry.details.terminalSafe)") }
            }
        }

        struct Update: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Triage alerts: status, classification, determination, assignee, comment. Name alert ids, or use --where with the `vigil alerts` filters for a bulk update.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "Alert ids.") var ids: [Int64] = []
            @Flag(name: .customLong("where"), help: "Update every alert that matches the filters instead of named ids.") var byFilter = false
            @OptionGroup(title: "Filters for --where") var filters: AlertFilterOptions
            @Option(name: .customLong("set-status"), help: "new, in-progress or resolved.") var setStatus: String?
            @Option(name: .customLong("set-classification"), help: "true-positive, false-positive or informational-expected-activity.") var setClassification: String?
            @Option(help: "Free-text determination (malware, phishing, security testing, …).") var determination: String?
            @Option(help: "Assign to this user.") var assign: String?
            @Option(help: "Add a comment.") var comment: String?

            var status: String? { setStatus.map { AlertUpdate.canonical($0, in: AlertUpdate.statuses) ?? $0 } }
            var classification: String? { setClassification.map { AlertUpdate.canonical($0, in: AlertUpdate.classifications) ?? $0 } }

            func validate() throws {
                if ids.isEmpty && !byFilter { throw ValidationError("name alert ids, or pass --where with filters for a bulk update") }
                if !ids.isEmpty && byFilter { throw ValidationError("name alert ids or use --where, not both") }
                if let status, !AlertUpdate.statuses.contains(status) {
                    throw ValidationError("--set-status must be one of \(AlertUpdate.statuses.joined(separator: ", "))")
                }
                if let classification, !AlertUpdate.classifications.contains(classification) {
                    throw ValidationError("--set-classification must be one of \(AlertUpdate.classifications.joined(separator: ", "))")
                }
                if status == nil && classification == nil && determination == nil && assign == nil && comment == nil {
                    throw ValidationError("nothing to change: pass --set-status, --set-classification, --determination, --assign or --comment")
                }
            }

            func run() throws {
                let opened = try store.openAlerts()
                var targets = ids
                if byFilter {
                    var filter = try filters.filter()
                    filter.limit = AlertFilter.pageCap
                    targets = try opened.alerts(filter).map(\.id)
                }
                let update = AlertUpdate(status: status, classification: classification, determination: determination, assignedTo: assign, comment: comment)
                do {
                    let changed = try opened.updateAlerts(ids: targets, update, actor: currentActor)
                    print("updated \(changed) of \(targets.count) alerts")
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
            }
        }
    }

    struct Incidents: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List incidents: related alerts grouped, with why.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this status.") var status: String?
        @Option(help: "Minimum severity.") var severity: Severity?
        @Option(help: "At most this many.") var limit = 100

        func run() throws {
            emit(try render(try store.openAlerts().incidents(status: status, minimumSeverity: severity, limit: limit), as: output.format))
        }
    }

    struct IncidentCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "incident", abstract: "Show or update one incident.", subcommands: [Show.self, Update.self])

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "An incident, why its alerts were grouped, its alerts and history.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The incident id.") var id: Int64

            func run() throws {
                let opened = try store.openAlerts()
                guard let incident = try opened.incident(id: id) else { throw CLIError("there is no incident \(id); see `vigil incidents`") }
                var filter = AlertFilter(limit: AlertFilter.pageCap)
                filter.incident = id
                let alerts = try opened.alerts(filter)
                if output.format != .table {
                    emit(try render([incident], as: output.format))
                    emit(try render(alerts, as: output.format))
                    return
                }
                print("incident \(incident.id): \(incident.title.terminalSafe)")
                print("severity \(incident.severity.name), status \(incident.status), machines \(incident.machines.joined(separator: ", ").terminalSafe)")
                print("why grouped:")
                for reason in incident.reason.split(separator: "\n") { print("  - \(String(reason).terminalSafe)") }
                print("")
                emit(try render(alerts, as: .table))
                let history = try opened.history(of: "incident:\(id)")
                if !history.isEmpty {
                    print("\nhistory:")
                    for entry in history { print("  \(entry.time.iso8601)  \(entry.actor.terminalSafe): \(entry.details.terminalSafe)") }
                }
            }
        }

        struct Update: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set an incident's status (it then stops following its alerts), assignee, classification, or comment.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The incident id.") var id: Int64
            @Option(name: .customLong("set-status"), help: "new, in-progress or resolved.") var setStatus: String?
            @Option(name: .customLong("set-classification"), help: "true-positive, false-positive or informational-expected-activity.") var setClassification: String?
            @Option(help: "Assign to this user.") var assign: String?
            @Option(help: "Add a comment.") var comment: String?

            func run() throws {
                do {
                    try store.openAlerts().updateIncident(
                        id: id, status: setStatus?.replacingOccurrences(of: "-", with: "_"), assignedTo: assign,
                        classification: setClassification?.replacingOccurrences(of: "-", with: "_"), comment: comment, actor: currentActor)
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                print("incident \(id) updated")
            }
        }
    }
}

