import Foundation
import VigilModel
import VigilStore

/// One outbox entry rendered for a subscription: the bytes to send and the stable event id.
public struct DeliveryMessage: Sendable {
    /// The outbox id; 0 for `vigil notify test`.
    public var eventID: Int64
    public var kind: String
    public var body: [UInt8]
}

/// The JSON document a webhook, the `json` syslog format and the live stream carry: the change,
/// with the alert (or incident) as the API shows it when the message is sent.
public struct DeliveryPayload: Encodable, Sendable {
    public var eventID: Int64
    public var type: String
    public var occurredAt: Timestamp
    public var changes: String
    public var alert: AlertRow?
    public var incident: IncidentRow?

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id", type, occurredAt = "occurred_at", changes, alert, incident
    }

    public init(_ entry: OutboxEntry) {
        eventID = entry.id
        type = entry.kind.rawValue
        occurredAt = entry.createdAt
        changes = entry.changes
        alert = entry.alert
        incident = entry.incident
    }

    /// One line of JSON.
    public func encoded() -> [UInt8] {
        // Encoding rows of strings, numbers and timestamps cannot fail.
        (try? Array(JSONEncoder.vigil.encode(self))) ?? Array(#"{"error":"unencodable"}"#.utf8)
    }
}

extension SubscriptionSpec {
    /// The entries this subscription wants.
    public var filter: OutboxFilter {
        OutboxFilter(kinds: kinds, minimumSeverity: minimumSeverity, platforms: platforms, rules: rules)
    }

    /// `entry` in this subscription's format; syslog formats are framed by the sender.
    public func message(for entry: OutboxEntry, hostname: String) -> DeliveryMessage {
        let payload = DeliveryPayload(entry)
        let body: [UInt8]
        switch format {
        case .json where transport == .webhook: body = payload.encoded()
        case .json: body = SyslogMessage.rfc5424(payload, hostname: hostname, text: String(decoding: payload.encoded(), as: UTF8.self))
        case .slack: body = ChatMessage.slack(payload)
        case .teams: body = ChatMessage.teams(payload)
        case .cef: body = SyslogMessage.rfc5424(payload, hostname: hostname, text: CEFMessage.render(payload))
        case .rfc5424: body = SyslogMessage.rfc5424(payload, hostname: hostname, text: SyslogMessage.summary(payload))
        }
        return DeliveryMessage(eventID: entry.id, kind: entry.kind.rawValue, body: body)
    }

    /// A message that says the subscription works (`vigil notify test`), in its format.
    public func testMessage(hostname: String) -> DeliveryMessage {
        let now = Timestamp.now()
        let incident = IncidentRow(id: 0, title: "Vigil test message for subscription '\(name)'", severity: minimumSeverity,
                                   status: "new", reason: "sent by `vigil notify test`", assignedTo: nil, classification: nil,
                                   alertCount: 0, machines: [], firstEventTime: now, lastEventTime: now, createdAt: now)
        let entry = OutboxEntry(id: 0, kind: .incidentCreated, alertID: nil, incidentID: 0, changes: "test", createdAt: now,
                                alert: nil, incident: incident)
        var message = message(for: entry, hostname: hostname)
        message.kind = "test"
        return message
    }
}

/// Headline words shared by the chat and syslog summaries.
extension DeliveryPayload {
    var headline: String {
        if let alert { return "\(alert.title) on \(alert.hostname)" }
        if let incident { return "Incident \(incident.id): \(incident.title)" }
        return type
    }

    var severity: Severity { alert?.severity ?? incident?.severity ?? .informational }

    /// What happened, in words: "new alert", "alert updated: status: new → resolved".
    var happening: String {
        let subject = alert != nil ? "alert" : "incident"
        switch type {
        case OutboxKind.alertCreated.rawValue, OutboxKind.incidentCreated.rawValue: return "new \(subject)"
        default: return changes.isEmpty ? "\(subject) updated" : "\(subject) updated: \(changes)"
        }
    }
}

/// Slack and Microsoft Teams incoming-webhook bodies. Every value from the data is escaped so
/// that it shows as text: no link, mention or formatting can be injected through a host name.
enum ChatMessage {
    static func slack(_ payload: DeliveryPayload) -> [UInt8] {
        var fields: [[String: String]] = []
        for (name, value) in facts(payload) { fields.append(["type": "mrkdwn", "text": "*\(name)*\n\(slackEscaped(value))"]) }
        let title = "[\(payload.severity.name.uppercased())] \(payload.headline)"
        let document: [String: Any] = [
            "text": slackEscaped(title) + " (\(slackEscaped(payload.happening)))",
            "blocks": [
                ["type": "section", "text": ["type": "mrkdwn", "text": "*\(slackEscaped(title))*\n\(slackEscaped(payload.happening))"]],
                ["type": "section", "fields": Array(fields.prefix(10))],
            ],
        ]
        return json(document)
    }

    static func teams(_ payload: DeliveryPayload) -> [UInt8] {
        let colours: [Severity: String] = [.critical: "8B0000", .high: "D13438", .medium: "FF8C00", .low: "FFB900", .informational: "0078D4"]
        let title = "[\(payload.severity.name.uppercased())] \(payload.headline)"
        let document: [String: Any] = [
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": markdownEscaped(title),
            "themeColor": colours[payload.severity] ?? "0078D4",
            "title": markdownEscaped(title),
            "text": markdownEscaped(payload.happening),
            "sections": [["facts": facts(payload).map { ["name": $0.name, "value": markdownEscaped($0.value)] }]],
        ]
        return json(document)
    }

    static func facts(_ payload: DeliveryPayload) -> [(name: String, value: String)] {
        var facts: [(name: String, value: String)] = [("Event id", String(payload.eventID)), ("Severity", payload.severity.name)]
        if let alert = payload.alert {
            facts += [("Alert", String(alert.id)), ("Status", alert.status), ("Machine", "\(alert.hostname) (\(alert.osPlatform))"),
                      ("Rule", alert.ruleID), ("Events", String(alert.eventCount)), ("Last event", alert.lastEventTime.iso8601)]
            if !alert.techniques.isEmpty { facts.append(("MITRE ATT&CK", alert.techniques.joined(separator: ", "))) }
            if let incident = alert.incidentID { facts.append(("Incident", String(incident))) }
        } else if let incident = payload.incident {
            facts += [("Incident", String(incident.id)), ("Status", incident.status), ("Alerts", String(incident.alertCount)),
                      ("Machines", incident.machines.joined(separator: ", "))]
        }
        return facts
    }

    /// Slack's three control characters, as its documentation asks.
    static func slackEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Markdown and HTML characters backslash- or entity-escaped (Teams renders both).
    static func markdownEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "&": escaped += "&amp;"
            case "\\", "`", "*", "_", "{", "}", "[", "]", "(", ")", "#", "+", "-", "!", "|", "~": escaped += "\\\(character)"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func json(_ document: [String: Any]) -> [UInt8] {
        (try? Array(JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))) ?? []
    }
}
