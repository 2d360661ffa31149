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
    /// Program, message, pid and the three login fields.
    private static let usualFieldCount = 6

    /// sshd and PAM name the account and the remote address in prose: `Failed password for
    /// invalid user admin from 203.0.113.5 port 2222 ssh2`. These become `User`, `SourceIp`
    /// and `SourcePort`, so rules and correlations can group by them.
    static func extractLoginFields(_ message: Substring, into fields: inout [EventField]) {
        var message = message
        message.withUTF8 { bytes in
            // Words split on bytes (a space never sits inside one), compared by their bytes.
            var words: [Range<Int>] = []
            words.reserveCapacity(bytes.count(of: 0x20, in: 0..<bytes.count) + 1)
            var start = 0
            while start < bytes.count {
                let end = bytes.firstIndex(of: 0x20, in: start..<bytes.count) ?? bytes.count
                if end > start { words.append(start..<end) }
                start = end + 1
            }
            func word(_ index: Int, is literal: StaticString) -> Bool {
                words[index].count == literal.utf8CodeUnitCount && bytes.hasPrefix(literal, at: words[index].lowerBound)
            }
            for index in words.indices where index + 1 < words.count {
                let next = words[index + 1]
                if word(index, is: "from"), bytes.firstIndex(ofAny: UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: ":"), in: next) != nil {
                    fields.append(EventField(sourceIPKey, bytes.string(next)))
                } else if word(index, is: "port"), next.allSatisfy({ bytes[$0] &- UInt8(ascii: "0") < 10 }) {
                    fields.append(EventField(sourcePortKey, bytes.string(next)))
                } else if word(index, is: "for"), !fields.contains(where: { $0.key == userKey }) {
                    let invalid = word(index + 1, is: "invalid") && index + 3 < words.count && word(index + 2, is: "user")
                    fields.append(EventField(userKey, bytes.string(invalid ? words[index + 3] : next)))
                } else if word(index, is: "user"), index > 0, word(index - 1, is: "Invalid"), !fields.contains(where: { $0.key == userKey }) {
                    fields.append(EventField(userKey, bytes.string(next)))
                }
            }
        }
    }

    let context: ParserContext

    public init(context: ParserContext) { self.context = context }

    /// The time of a syslog line's header as parsed relative to `now` (for tests of the year rule).
    public static func header(_ line: String, now: Timestamp) -> Timestamp? { SyslogHeader(line, now: now)?.time }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        guard let header = SyslogHeader(record.text, now: context.now) else {
            return RejectedRecord(line: record.line, reason: "not a syslog line: expected 'Mmm dd hh:mm:ss host program[pid]: message'", raw: record.text)
        }
        var fields: [EventField] = []
        fields.reserveCapacity(Self.usualFieldCount)
        fields.append(EventField(Self.programKey, header.program))
        fields.append(EventField(Self.messageKey, String(header.message)))
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
