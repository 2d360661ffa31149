import Foundation
import VigilModel

/// Linux syslog lines (sshd, sudo, PAM, cron, …): one event per line, product `linux`, with
/// the service taken from the program so SigmaHQ's service rules (and their keyword
/// searches over the raw line) apply. Fields: `program`, `pid`, `message`, and for login
/// messages `User`, `SourceIp` and `SourcePort`.
public struct SyslogParser: EventParser {
    public static let format = "syslog"
    public static let isStateless = true

    /// Program name → Sigma service.
    public static let services: [String: String] = [
        "sshd": "sshd", "sudo": "sudo", "cron": "cron", "CRON": "cron", "crond": "cron", "anacron": "cron",
        "su": "auth", "login": "auth", "passwd": "auth", "useradd": "auth", "usermod": "auth", "groupadd": "auth",
        "systemd-logind": "auth", "unix_chkpwd": "auth", "polkitd": "auth", "vsftpd": "vsftpd", "clamd": "clamav",
        "freshclam": "clamav", "guacd": "guacamole", "auditd": "auditd", "sshd-session": "sshd",
    ]

    static let programKey = FieldKey("program"), pidKey = FieldKey("pid"), messageKey = FieldKey("message")
    static let userKey = FieldKey("User"), sourceIPKey = FieldKey("SourceIp"), sourcePortKey = FieldKey("SourcePort")

    /// sshd and PAM name the account and the remote address in prose: `Failed password for
    /// invalid user admin from 203.0.113.5 port 2222 ssh2`. These become `User`, `SourceIp`
    /// and `SourcePort`, so rules and correlations can group by them.
    static func extractLoginFields(_ message: Substring, into fields: inout [EventField]) {
        let words = message.split(separator: " ")
        for (index, word) in words.enumerated() where index + 1 < words.count {
            switch word {
            case "from" where words[index + 1].contains(".") || words[index + 1].contains(":"):
                fields.append(EventField(sourceIPKey, String(words[index + 1])))
            case "port" where words[index + 1].allSatisfy(\.isNumber):
                fields.append(EventField(sourcePortKey, String(words[index + 1])))
            case "for" where !fields.contains(where: { $0.key == userKey }):
                var user = words[index + 1]
                if user == "invalid", index + 3 < words.count, words[index + 2] == "user" { user = words[index + 3] }
                fields.append(EventField(userKey, String(user)))
            case "user" where index > 0 && words[index - 1] == "Invalid" && !fields.contains(where: { $0.key == userKey }):
                fields.append(EventField(userKey, String(words[index + 1])))
            default:
                break
            }
        }
    }

    let context: ParserContext

    public init(context: ParserContext) { self.context = context }

    /// The time of a syslog line's header as parsed relative to `now` (for tests of the year rule).
    public static func header(_ line: String, now: Timestamp) -> Timestamp? { SyslogHeader(line, now: now)?.time }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        guard let header = SyslogHeader(record.text) else {
            return RejectedRecord(line: record.line, reason: "not a syslog line: expected 'Mmm dd hh:mm:ss host program[pid]: message'", raw: record.text)
        }
        var fields = [EventField(Self.programKey, header.program), EventField(Self.messageKey, String(header.message))]
        if let pid = header.pid { fields.append(EventField(Self.pidKey, pid)) }
        Self.extractLoginFields(header.message, into: &fields)
        let service = Self.services[header.program] ?? (header.message.hasPrefix("pam_") ? "auth" : "syslog")
        events.append(Event(
            time: header.time, machine: MachineIdentity(hostname: header.hostname, platform: .linux),
            sourceFormat: Self.format, integration: context.integration,
            logSource: LogSource(product: "linux", service: service), fields: fields, raw: record.text, line: record.line))
        return nil
    }
}

/// Sysmon for Linux: syslog lines that wrap the event XML. Each `<Data Name="X">` becomes the
/// field X; the EventID picks the Sigma category. Sysmon's own status lines yield no event.
public struct SysmonLinuxParser: EventParser {
    public static let format = "sysmon-linux"
    public static let isStateless = true

    /// Sysmon event id → Sigma category.
    public static let categories: [String: String] = [
        "1": "process_creation", "3": "network_connection", "4": "sysmon_status", "5": "process_termination",
        "9": "raw_access_thread", "11": "file_event", "16": "sysmon_status", "23": "file_delete", "26": "file_delete_detected",
    ]

    static let eventIDKey = FieldKey("EventID"), computerKey = FieldKey("Computer")
    let context: ParserContext
    private var keys = FieldKeyCache()
    public private(set) var skippedRecords = 0

    public init(context: ParserContext) { self.context = context }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        guard let header = SyslogHeader(record.text) else {
            return RejectedRecord(line: record.line, reason: "not a Sysmon for Linux syslog line", raw: record.text)
        }
        guard let xmlStart = header.message.byteRange(of: "<Event>")?.lowerBound else {
            if header.program.lowercased().hasPrefix("sysmon") {
                skippedRecords += 1
                return nil
            }
            return RejectedRecord(line: record.line, reason: "a syslog line from '\(header.program)', not a Sysmon event", raw: record.text)
        }
        let xml = header.message[xmlStart...]
        guard xml.hasBytes("</Event>") else {
            return RejectedRecord(line: record.line, reason: "the Sysmon event XML is truncated (no </Event>)", raw: record.text)
        }
        guard let eventID = Self.element("<EventID>", "</EventID>", in: xml) else {
            return RejectedRecord(line: record.line, reason: "the Sysmon event has no EventID", raw: record.text)
        }
        var fields = [EventField(Self.eventIDKey, eventID)]
        let computer = Self.element("<Computer>", "</Computer>", in: xml)
        if let computer { fields.append(EventField(Self.computerKey, computer)) }
        var rest = xml
        while let nameStart = rest.byteRange(of: "<Data Name=\"") {
            let afterName = rest[nameStart.upperBound...]
            guard let nameEnd = afterName.firstIndex(of: "\"") else { break }
            let name = String(afterName[..<nameEnd])
            var valueRest = afterName[afterName.index(after: nameEnd)...]
            if valueRest.hasPrefix("/>") {
                rest = valueRest
                continue
            }
            guard valueRest.first == ">" else { break }
            valueRest = valueRest.dropFirst()
            guard let close = valueRest.byteRange(of: "</Data>") else { break }
            fields.append(EventField(keys.key(for: name), decodeXMLEntities(valueRest[..<close.lowerBound])))
            rest = valueRest[close.upperBound...]
        }
        var time = header.time
        if let stamp = Self.attribute("SystemTime=\"", of: "<TimeCreated ", in: xml), let parsed = Timestamp(parsing: stamp) { time = parsed }
        events.append(Event(
            time: time, machine: MachineIdentity(hostname: computer ?? header.hostname, platform: .linux),
            sourceFormat: Self.format, integration: context.integration,
            logSource: LogSource(product: "linux", category: Self.categories[eventID] ?? "sysmon_event_\(eventID)"),
            fields: fields, raw: record.text, line: record.line))
        return nil
    }

    /// The text of the element between `open` and `close` tags.
    static func element(_ open: StaticString, _ close: StaticString, in xml: Substring) -> String? {
        guard let start = xml.byteRange(of: open), let end = xml[start.upperBound...].byteRange(of: close) else { return nil }
        return decodeXMLEntities(xml[start.upperBound..<end.lowerBound])
    }

    /// The value of an attribute (`key` is `name="`) of the element that starts with `open`.
    static func attribute(_ key: StaticString, of open: StaticString, in xml: Substring) -> String? {
        guard let start = xml.byteRange(of: open), let key = xml[start.upperBound...].byteRange(of: key) else { return nil }
        let value = xml[key.upperBound...]
        guard let end = value.firstIndex(of: "\"") else { return nil }
        return String(value[..<end])
    }
}
