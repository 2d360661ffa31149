import Foundation
import VigilModel
import VigilStore

/// RFC 5424 syslog messages for SIEM forwarding. The sender frames each with octet counting
/// (RFC 6587: the byte length, a space, the message).
public enum SyslogMessage {
    /// Facility 4 (security/authorization): every message is an alert or incident change.
    static let facility = 4
    /// The structured-data id: `vigil` at IANA's documentation enterprise number (RFC 5612).
    static let structuredDataID = "vigil@32473"

    /// The syslog severity of a Vigil severity: critical 2, high 3, medium 4, low 5, informational 6.
    static func syslogSeverity(_ severity: Severity) -> Int {
        switch severity {
        case .critical: 2
        case .high: 3
        case .medium: 4
        case .low: 5
        case .informational: 6
        }
    }

    /// `<PRI>1 TIMESTAMP HOSTNAME vigil - MSGID [vigil@32473 …] text`: MSGID is the change's
    /// kind, the structured data carries the ids a SIEM correlates on, and `text` is the message.
    static func rfc5424(_ payload: DeliveryPayload, hostname: String, text: String) -> [UInt8] {
        var parameters: [(String, String)] = [("event_id", String(payload.eventID)), ("severity", payload.severity.name)]
        if let alert = payload.alert {
            parameters += [("alert_id", String(alert.id)), ("rule_id", alert.ruleID), ("host", alert.hostname),
                           ("os", alert.osPlatform), ("status", alert.status)]
            if let incident = alert.incidentID { parameters.append(("incident_id", String(incident))) }
        } else if let incident = payload.incident {
            parameters += [("incident_id", String(incident.id)), ("status", incident.status)]
        }
        let data = parameters.map { "\($0.0)=\"\(structuredDataEscaped($0.1))\"" }.joined(separator: " ")
        let priority = facility * 8 + syslogSeverity(payload.severity)
        let header = "<\(priority)>1 \(payload.occurredAt.iso8601) \(headerField(hostname, limit: 255)) vigil - \(headerField(payload.type, limit: 32))"
        return Array("\(header) [\(structuredDataID) \(data)] \(singleLine(text))".utf8)
    }

    /// The plain-text message of the `rfc5424` format.
    static func summary(_ payload: DeliveryPayload) -> String {
        "[\(payload.severity.name)] \(payload.headline): \(payload.happening)"
    }

    /// A header field: printable US-ASCII without spaces, at most `limit` characters, `-` when empty.
    static func headerField(_ text: String, limit: Int) -> String {
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.filter { (33...126).contains($0.value) }.prefix(limit)))
        return printable.isEmpty ? "-" : printable
    }

    /// A structured-data value: `"`, `\` and `]` escaped with a backslash (RFC 5424 6.3.3).
    static func structuredDataEscaped(_ text: String) -> String {
        var escaped = ""
        for character in singleLine(text) {
            if character == "\"" || character == "\\" || character == "]" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// Line breaks and other control characters as spaces: one message, one line, whatever the data holds.
    static func singleLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 32 || $0.value == 127 ? " " : $0 }))
    }
}

/// ArcSight Common Event Format, the field mapping the README documents.
public enum CEFMessage {
    /// The CEF severity (0–10) of a Vigil severity.
    static func severity(_ severity: Severity) -> Int {
        switch severity {
        case .informational: 1
        case .low: 3
        case .medium: 5
        case .high: 8
        case .critical: 10
        }
    }

    /// `CEF:0|Vigil|Vigil|1|signature|name|severity|extension`.
    static func render(_ payload: DeliveryPayload) -> String {
        var signature = payload.type, name = payload.headline
        var fields: [(String, String)] = [("cat", payload.type), ("cn1Label", "event_id"), ("cn1", String(payload.eventID))]
        if let alert = payload.alert {
            signature = alert.ruleID
            name = alert.title
            fields += [
                ("externalId", String(alert.id)), ("dhost", alert.hostname), ("rt", String(alert.lastEventTime.microseconds / 1000)),
                ("start", String(alert.firstEventTime.microseconds / 1000)), ("end", String(alert.lastEventTime.microseconds / 1000)),
                ("cnt", String(alert.eventCount)), ("act", alert.status),
                ("cs1Label", "rule_id"), ("cs1", alert.ruleID), ("cs2Label", "mitre_techniques"), ("cs2", alert.techniques.joined(separator: ",")),
                ("cs3Label", "os_platform"), ("cs3", alert.osPlatform), ("cs4Label", "integration"), ("cs4", alert.integration),
                ("cs5Label", "incident_id"), ("cs5", alert.incidentID.map(String.init) ?? ""),
            ]
        } else if let incident = payload.incident {
            signature = "incident"
            name = incident.title
            fields += [("externalId", String(incident.id)), ("dhost", incident.machines.first ?? ""), ("act", incident.status),
                       ("cnt", String(incident.alertCount)), ("rt", String(incident.lastEventTime.microseconds / 1000)),
                       ("cs5Label", "incident_id"), ("cs5", String(incident.id)), ("cs6Label", "machines"), ("cs6", incident.machines.joined(separator: ","))]
        }
        fields.append(("msg", payload.happening))
        let header = ["CEF:0", "Vigil", "Vigil", "1", headerEscaped(signature), headerEscaped(name), String(severity(payload.severity))]
        return header.joined(separator: "|") + "|" + fields.map { "\($0.0)=\(extensionEscaped($0.1))" }.joined(separator: " ")
    }

    /// Header fields escape `\` and `|`; line breaks become spaces.
    static func headerEscaped(_ text: String) -> String {
        SyslogMessage.singleLine(text).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
    }

    /// Extension values escape `\` and `=`, and write line breaks as `\n`.
    static func extensionEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case "=": escaped += "\\="
            case "\n", "\r\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            default: escaped.append(character.isNewline || character.unicodeScalars.contains { $0.value < 32 } ? " " : character)
            }
        }
        return escaped
    }
}
