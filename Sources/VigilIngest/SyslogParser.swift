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
