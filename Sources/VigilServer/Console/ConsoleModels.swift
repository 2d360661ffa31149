import Foundation
import VigilModel
import VigilPipeline
import VigilStore

/// What every console page's frame shows: the title, who is signed in, the navigation an admin
/// sees, and the CSRF token its forms carry.
struct ConsoleLayout {
    let title: String
    let user: String?
    let admin: Bool
    let csrf: String

    init(title: String, context: VigilRequestContext) {
        self.title = title
        user = context.consoleSession?.name
        if case .apiKey(_, let admin) = context.identity { self.admin = admin } else { admin = false }
        csrf = context.consoleSession?.csrf ?? ""
    }
}

/// An alert as the queue and the other lists show it.
struct AlertItem {
    let id: Int64
    let title: String
    let severity: String
    let status: String
    let hostname: String
    let machineID: Int64
    let os: String
    let integration: String
    let rule: String
    let eventCount: Int64
    let lastEvent: String
    let assignedTo: String?

    init(_ alert: AlertRow) {
        id = alert.id
        title = alert.title
        severity = alert.severity.name
        status = alert.status
        hostname = alert.hostname
        machineID = alert.machineID
        os = [alert.osPlatform, alert.osVersion ?? ""].joined(separator: " ").trimmingCharacters(in: .whitespaces)
        integration = alert.integration
        rule = alert.ruleID
        eventCount = alert.eventCount
        lastEvent = alert.lastEventTime.iso8601
        assignedTo = alert.assignedTo
    }
}

/// A MITRE ATT&CK technique with its page on attack.mitre.org; `url` is nil for an id that is
/// not of the form T1234 or T1234.001, so no rule text ever becomes a link.
struct TechniqueLink {
    let id: String
    let url: String?

    init(_ id: String) {
        self.id = id
        let parts = id.uppercased().split(separator: ".", omittingEmptySubsequences: false)
        let isTechnique = { (part: Substring, digits: Int) in part.count == digits && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) }
        if let first = parts.first, first.hasPrefix("T"), isTechnique(first.dropFirst(), 4), parts.count == 1 || (parts.count == 2 && isTechnique(parts[1], 3)) {
            url = "https://attack.mitre.org/techniques/" + parts.joined(separator: "/") + "/"
        } else {
            url = nil
        }
    }
}

/// An event on the alert page or a machine's timeline: its fields, matched ones marked, and
/// its raw record for the "raw record" disclosure.
struct EventItem {
    struct Field {
        let name: String
        let value: String
        let matched: Bool
    }

    let id: Int64
    let time: String
    let category: String
    let source: String
    let fields: [Field]
    let raw: String
    let alerts: [AlertMention]

    struct AlertMention {
        let id: Int64
        let title: String
        let severity: String
    }

    init(_ event: EventRow, matched: Set<String> = [], alerts: [TimelineEntry.Alert] = []) {
        id = event.id
        time = event.time.iso8601
        category = event.category ?? ""
        source = event.sourceFormat + " via " + event.integration
        if case .object(let members) = JSONValue(parsing: event.fieldsJSON) {
            fields = members.sorted { $0.key < $1.key }.map { Field(name: $0.key, value: $0.value.plainText, matched: matched.contains($0.key)) }
        } else {
            fields = []
        }
        raw = event.raw
        self.alerts = alerts.map { AlertMention(id: $0.id, title: $0.title, severity: $0.severity.name) }
    }
}

/// A choice in a `<select>`, with whether it is the current one.
struct Choice {
    let value: String
    let label: String
    let selected: Bool

    static func list(_ values: [String], selected: String?, blank: String? = nil) -> [Choice] {
        (blank.map { [Choice(value: "", label: $0, selected: selected == nil)] } ?? [])
            + values.map { Choice(value: $0, label: $0.replacingOccurrences(of: "_", with: " "), selected: $0 == selected) }
    }
}
