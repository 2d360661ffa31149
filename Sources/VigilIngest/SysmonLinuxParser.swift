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
    /// Fields reserved for an event: enough for a process creation's 25 (Sysmon event 1).
    private static let typicalFieldCount = 28
    let context: ParserContext
    private var keys = FieldKeyCache()
    public private(set) var skippedRecords = 0

    public init(context: ParserContext) { self.context = context }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        guard let header = SyslogHeader(record.text, now: context.now) else {
            return RejectedRecord(line: record.line, reason: "not a Sysmon for Linux syslog line", raw: record.text)
        }
        var text = record.text
        // The message is a slice of the record's text: its offset there is where the XML is looked for.
        let messageStart = text.utf8.distance(from: text.startIndex, to: header.message.startIndex)
        let read = text.withUTF8 { Self.read($0, messageFrom: messageStart, keys: &keys) }
        let xml: EventXML
        switch read {
        case .event(let event): xml = event
        case .noEvent:
            if header.program.lowercased().hasPrefix("sysmon") {
                skippedRecords += 1
                return nil
            }
            return RejectedRecord(line: record.line, reason: "a syslog line from '\(header.program)', not a Sysmon event", raw: record.text)
        case .refused(let reason): return RejectedRecord(line: record.line, reason: reason, raw: record.text)
        }
        var time = header.time
        if let stamp = xml.systemTime, let parsed = Timestamp(parsing: stamp) { time = parsed }
        events.append(Event(
            time: time, machine: MachineIdentity(hostname: xml.computer ?? header.hostname, platform: .linux),
            sourceFormat: Self.format, integration: context.integration,
            logSource: LogSource(product: "linux", category: Self.categories[xml.eventID] ?? "sysmon_event_\(xml.eventID)"),
            fields: xml.fields, raw: record.text, line: record.line))
        return nil
    }

    /// What a record's event XML holds.
    private struct EventXML {
        var eventID: String
        var computer: String?
        var systemTime: String?
        /// `EventID`, `Computer` and each `<Data Name="X">` as the field X.
        var fields: [EventField]
    }

    private enum ReadXML {
        case event(EventXML)
        /// The message holds no `<Event>`: a status line, or not Sysmon's.
        case noEvent
        case refused(String)
    }

    /// Reads the event XML of the message that starts at offset `messageStart` of a record's
    /// UTF-8 bytes, by offset (the tags are ASCII).
    private static func read(_ bytes: UnsafeBufferPointer<UInt8>, messageFrom messageStart: Int, keys: inout FieldKeyCache) -> ReadXML {
        let end = bytes.count
        guard let xmlStart = bytes.firstRange(of: "<Event>", in: messageStart..<end)?.lowerBound else { return .noEvent }
        let xml = xmlStart..<end
        let eventID = element("<EventID>", "</EventID>", in: xml, of: bytes)
        var fields: [EventField] = []
        fields.reserveCapacity(Self.typicalFieldCount)
        if let eventID { fields.append(EventField(Self.eventIDKey, eventID)) }
        let computer = element("<Computer>", "</Computer>", in: xml, of: bytes)
        if let computer { fields.append(EventField(Self.computerKey, computer)) }
        var rest = xml
        // Sysmon writes each `<Data>` right after the one before, so the next is looked for there first.
        func nextData() -> Range<Int>? {
            let opening: StaticString = "<Data Name=\""
            if bytes.hasPrefix(opening, at: rest.lowerBound) { return rest.lowerBound..<rest.lowerBound + opening.utf8CodeUnitCount }
            return bytes.firstRange(of: opening, in: rest)
        }
        while let nameStart = nextData() {
            guard let nameEnd = bytes.firstIndex(of: UInt8(ascii: "\""), in: nameStart.upperBound..<end) else { break }
            // Bytes after the name's closing quote: `/>` (no value) or `>` and the value.
            var valueStart = nameEnd + 1
            if bytes.hasPrefix("/>", at: valueStart) {
                rest = valueStart..<end
                continue
            }
            guard valueStart < end, bytes[valueStart] == UInt8(ascii: ">") else { break }
            valueStart += 1
            guard let close = bytes.firstRange(of: "</Data>", in: valueStart..<end) else { break }
            let name = UnsafeBufferPointer(rebasing: bytes[nameStart.upperBound..<nameEnd])
            fields.append(EventField(keys.key(forUTF8: name), decodedText(valueStart..<close.lowerBound, of: bytes)))
            rest = close.upperBound..<end
        }
        // `</Event>` anywhere in the XML; it closes it, so it is looked for after the last `<Data>` first.
        guard bytes.firstRange(of: "</Event>", in: rest) != nil || bytes.firstRange(of: "</Event>", in: xml) != nil else {
            return .refused("the Sysmon event XML is truncated (no </Event>)")
        }
        guard let eventID else { return .refused("the Sysmon event has no EventID") }
        return .event(EventXML(eventID: eventID, computer: computer, systemTime: attribute("SystemTime=\"", of: "<TimeCreated ", in: xml, of: bytes),
                               fields: fields))
    }

    /// The text of the element between `open` and `close` tags in `xml`.
    private static func element(_ open: StaticString, _ close: StaticString, in xml: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let start = bytes.firstRange(of: open, in: xml), let end = bytes.firstRange(of: close, in: start.upperBound..<xml.upperBound) else { return nil }
        return decodedText(start.upperBound..<end.lowerBound, of: bytes)
    }

    /// The value of an attribute (`key` is `name="`) of the element that starts with `open`.
    private static func attribute(_ key: StaticString, of open: StaticString, in xml: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let start = bytes.firstRange(of: open, in: xml), let key = bytes.firstRange(of: key, in: start.upperBound..<xml.upperBound),
              let end = bytes.firstIndex(of: UInt8(ascii: "\""), in: key.upperBound..<xml.upperBound) else { return nil }
        return bytes.string(key.upperBound..<end)
    }

    /// The text of `range` with XML entities decoded.
    private static func decodedText(_ range: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>) -> String {
        let text = bytes.string(range)
        return bytes.firstIndex(of: UInt8(ascii: "&"), in: range) == nil ? text : decodeXMLEntities(text[...])
    }
}
