import Foundation
import VigilModel
import VigilStore

// Rows as named columns, shared by the CLI and the HTTP API so both print the same
// snake_case JSON keys.

/// The output formats of every listing.
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, jsonl, csv
}


/// A value in command output, typed so JSON keeps numbers and nulls.
public enum OutputValue {
    case text(String)
    case integer(Int64)
    case null
    /// Already-serialized JSON (an object of fields, say).
    case json(String)

    public init(_ text: String?) { self = text.map(OutputValue.text) ?? .null }
    public init(_ time: Timestamp?) { self = time.map { .text($0.iso8601) } ?? .null }

    public var plain: String {
        switch self {
        case .text(let text): text
        case .integer(let value): String(value)
        case .null: ""
        case .json(let json): json
        }
    }

    public var jsonText: String {
        switch self {
        case .text(let text): JSONText.quoted(text)
        case .integer(let value): String(value)
        case .null: "null"
        case .json(let json): json
        }
    }
}

/// Rows with named columns, printed as a table, JSON, JSON lines or CSV.
public struct OutputTable {
    /// Column names (snake_case, stable: scripts rely on them).
    public var columns: [String]
    /// The subset shown by `--format table`; every column when empty.
    public var tableColumns: [String] = []
    public var rows: [[OutputValue]] = []

    public init(columns: [String], tableColumns: [String] = [], rows: [[OutputValue]] = []) {
        self.columns = columns
        self.tableColumns = tableColumns
        self.rows = rows
    }

    public func render(_ format: OutputFormat) -> String {
        switch format {
        case .json:
            if rows.isEmpty { return "[]" }
            return "[\n" + rows.map { "  " + object($0) }.joined(separator: ",\n") + "\n]"
        case .jsonl:
            return rows.map(object).joined(separator: "\n")
        case .csv:
            return ([columns.map(csvField).joined(separator: ",")] + csvRecords()).joined(separator: "\n")
        case .table:
            return table()
        }
    }

    /// The rows as CSV records, without the header (a record may span lines inside quotes).
    public func csvRecords() -> [String] {
        rows.map { $0.map { csvField($0.plain) }.joined(separator: ",") }
    }

    private func object(_ row: [OutputValue]) -> String {
        "{" + zip(columns, row).map { JSONText.quoted($0) + ":" + $1.jsonText }.joined(separator: ",") + "}"
    }

    /// One RFC 4180 field. A cell that a spreadsheet would run as a formula (one starting with
    /// `=`, `+`, `-`, `@`, tab or CR) is neutralized with a leading single quote, as OWASP advises
    /// for CSV injection: event data is attacker-controlled.
    private func csvField(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func table() -> String {
        let shown = tableColumns.isEmpty ? columns : tableColumns
        let indices = shown.compactMap { columns.firstIndex(of: $0) }
        let cells = rows.map { row in
            indices.map { index in
                let text = row[index].plain.terminalSafe
                return text.count > 60 ? String(text.prefix(59)) + "…" : text
            }
        }
        let headers = indices.map { columns[$0].uppercased() }
        var widths = headers.map(\.count)
        for row in cells {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(headers)] + cells.map(line)).joined(separator: "\n")
    }
}

/// Alerts as output rows.
public func alertTable(_ rows: [AlertRow]) -> OutputTable {
    var table = OutputTable(
        columns: ["id", "rule_id", "title", "severity", "status", "classification", "determination", "assigned_to",
                  "machine_id", "hostname", "os_platform", "os_version", "event_count", "first_event_time", "last_event_time",
                  "created_at", "incident_id", "integration", "author", "mitre_techniques", "matched_fields", "previous_alert_id"],
        tableColumns: ["id", "severity", "status", "title", "hostname", "os_platform", "event_count", "last_event_time", "incident_id", "integration"])
    table.rows = rows.map { alert in
        [.integer(alert.id), .text(alert.ruleID), .text(alert.title), .text(alert.severity.name), .text(alert.status),
         OutputValue(alert.classification), OutputValue(alert.determination), OutputValue(alert.assignedTo),
         .integer(alert.machineID), .text(alert.hostname), .text(alert.osPlatform), OutputValue(alert.osVersion), .integer(alert.eventCount),
         OutputValue(alert.firstEventTime), OutputValue(alert.lastEventTime), OutputValue(alert.createdAt),
         alert.incidentID.map(OutputValue.integer) ?? .null, .text(alert.integration), .text(alert.author),
         .json("[" + alert.techniques.map(JSONText.quoted).joined(separator: ",") + "]"), .json(alert.matchedFields),
         alert.previousAlertID.map(OutputValue.integer) ?? .null]
    }
    return table
}

/// Incidents as output rows.
public func incidentTable(_ rows: [IncidentRow]) -> OutputTable {
    var table = OutputTable(
        columns: ["id", "title", "severity", "status", "alert_count", "machines", "first_event_time", "last_event_time",
                  "assigned_to", "classification", "reason"],
        tableColumns: ["id", "severity", "status", "alert_count", "machines", "last_event_time", "title"])
    table.rows = rows.map { incident in
        [.integer(incident.id), .text(incident.title), .text(incident.severity.name), .text(incident.status), .integer(incident.alertCount),
         .text(incident.machines.joined(separator: ",")), OutputValue(incident.firstEventTime), OutputValue(incident.lastEventTime),
         OutputValue(incident.assignedTo), OutputValue(incident.classification), .text(incident.reason)]
    }
    return table
}

/// Machines as output rows.
public func machineTable(_ rows: [MachineRow]) -> OutputTable {
    var table = OutputTable(columns: ["id", "hostname", "os_platform", "os_version", "supported", "status", "first_seen",
                                      "last_seen", "last_integration", "event_count", "alert_count"])
    table.rows = rows.map { machine in
        [.integer(machine.id), .text(machine.hostname), .text(machine.osPlatform), OutputValue(machine.osVersion),
         machine.supported.map { .json($0 ? "true" : "false") } ?? .null, .text(machine.active ? "active" : "inactive"),
         OutputValue(machine.firstSeen), OutputValue(machine.lastSeen), OutputValue(machine.lastIntegration),
         .integer(machine.eventCount), .integer(machine.alertCount)]
    }
    return table
}

/// Everything known about one alert, loaded once for `vigil alert show` and `GET /api/v1/alerts/{id}`.
public struct AlertDetail {
    public let alert: AlertRow
    public let events: [EventRow]
    public let incident: IncidentRow?
    public let comments: [CommentRow]
    public let history: [AuditRow]
    /// The alerts that follow this one: opened by detections after it was resolved or past its window.
    public let laterAlertIDs: [Int64]

    /// Loads the alert `id`, or nil when there is none.
    public init?(id: Int64, from store: some AlertQueries & AuditLog) throws {
        guard let alert = try store.alert(id: id) else { return nil }
        self.alert = alert
        events = try store.alertEvents(id: id, limit: 100)
        incident = try alert.incidentID.flatMap { try store.incident(id: $0) }
        comments = try store.comments(alertID: id, incidentID: nil)
        history = try store.history(of: "alert:\(id)")
        laterAlertIDs = try store.laterAlertIDs(following: id)
    }

    /// One JSON object: the alert's columns plus `description`, `events` (with raw records),
    /// `incident`, `comments` and `history`.
    public var json: String {
        var object = String(alertTable([alert]).render(.jsonl).dropLast())
        object += ",\"description\":" + JSONText.quoted(alert.description)
        object += ",\"events\":[" + events.map { event in
            "{\"id\":\(event.id),\"time\":\(JSONText.quoted(event.time.iso8601)),\"category\":\(event.category.map(JSONText.quoted) ?? "null"),\"fields\":\(event.fieldsJSON),\"raw\":\(JSONText.quoted(event.raw))}"
        }.joined(separator: ",") + "]"
        object += ",\"later_alert_ids\":[" + laterAlertIDs.map(String.init).joined(separator: ",") + "]"
        object += ",\"incident\":" + (incident.map { String(incidentTable([$0]).render(.jsonl)) } ?? "null")
        object += ",\"comments\":[" + comments.map { "{\"author\":\(JSONText.quoted($0.author)),\"text\":\(JSONText.quoted($0.text)),\"time\":\(JSONText.quoted($0.createdAt.iso8601))}" }.joined(separator: ",") + "]"
        object += ",\"history\":[" + history.map { "{\"time\":\(JSONText.quoted($0.time.iso8601)),\"actor\":\(JSONText.quoted($0.actor)),\"action\":\(JSONText.quoted($0.action)),\"details\":\(JSONText.quoted($0.details))}" }.joined(separator: ",") + "]}"
        return object
    }
}
