import Foundation
import VigilModel

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
        guard let header = SyslogHeader(record.text, now: context.now) else {
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
            guard let nameEnd = afterName.utf8.firstIndex(of: UInt8(ascii: "\"")) else { break }
            let name = String(afterName[..<nameEnd])
            // Bytes after the name's closing quote: `/>` (no value) or `>` and the value.
            var valueRest = afterName[afterName.utf8.index(after: nameEnd)...]
            if valueRest.utf8.starts(with: "/>".utf8) {
                rest = valueRest
                continue
            }
            guard valueRest.utf8.first == UInt8(ascii: ">") else { break }
            valueRest = valueRest[valueRest.utf8.index(after: valueRest.startIndex)...]
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
        guard let end = value.utf8.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(value[..<end])
    }
}
