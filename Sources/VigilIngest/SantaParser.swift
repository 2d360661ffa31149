import Foundation
import VigilModel

/// Google Santa's `santad` log: `[<ISO time>] I santad: action=EXEC|decision=…|path=…|args=…`.
/// EXEC becomes process_creation; file actions (WRITE, RENAME, DELETE, LINK) become file_event;
/// other actions (DISKAPPEAR, …) stay as product macos events. Every key is kept.
public struct SantaParser: EventParser {
    public static let format = "santa"
    public static let isStateless = true

    /// Santa keys → Sigma names for executions.
    public static let execMap = FieldMap([("path", "Image"), ("args", "CommandLine"), ("pid", "ProcessId"),
                                          ("ppid", "ParentProcessId"), ("user", "User"), ("sha256", "sha256")])
    /// Santa keys → Sigma names for file operations.
    public static let fileMap = FieldMap([("path", "TargetFilename"), ("processpath", "Image"), ("pid", "ProcessId"),
                                          ("user", "User"), ("newpath", "TargetFilename")])

    /// The most fields either map adds.
    private static let mostMappedFields = max(execMap.pairs.count, fileMap.pairs.count)
    /// The most pairs reserved ahead. Each event keeps its array's capacity, so a line of a
    /// million `|` around one pair must not leave its event holding a million slots.
    private static let mostPairsReserved = 32

    let context: ParserContext
    private var keys = FieldKeyCache()
    private static let actionKey = FieldKey("action")

    public init(context: ParserContext) { self.context = context }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        let text = record.text
        guard text.hasPrefix("["), let close = text.utf8.firstIndex(of: UInt8(ascii: "]")),
            let time = Timestamp(parsing: String(text[text.index(after: text.startIndex)..<close])),
            let marker = text.byteRange(of: "santad: ")
        else {
            return RejectedRecord(line: record.line, reason: "not a santad log line: expected '[<time>] I santad: key=value|…'", raw: text)
        }
        var fields: [EventField] = []
        // `key=value` pairs split on `|`, read as bytes by offset (both delimiters are ASCII, so
        // every piece holds whole characters).
        let pairsStart = text.utf8.distance(from: text.startIndex, to: marker.upperBound)
        var bytesOfText = text
        bytesOfText.withUTF8 { bytes in
            let end = bytes.count
            let pairs = bytes.count(of: UInt8(ascii: "|"), in: pairsStart..<end) + 1
            fields.reserveCapacity(min(pairs, Self.mostPairsReserved) + Self.mostMappedFields)
            var pairStart = pairsStart
            while pairStart < end {
                let pairEnd = bytes.firstIndex(of: UInt8(ascii: "|"), in: pairStart..<end) ?? end
                if let equals = bytes.firstIndex(of: UInt8(ascii: "="), in: pairStart..<pairEnd) {
                    let key = keys.key(forUTF8: UnsafeBufferPointer(rebasing: bytes[pairStart..<equals]))
                    fields.append(EventField(key, bytes.string(equals + 1..<pairEnd)))
                }
                pairStart = pairEnd + 1
            }
        }
        guard let action = fields.first(Self.actionKey) else {
            return RejectedRecord(line: record.line, reason: "the santad line has no action=", raw: text)
        }
        var category: String?
        switch action {
        case "EXEC":
            category = "process_creation"
            Self.execMap.apply(to: &fields)
        case "WRITE", "RENAME", "DELETE", "LINK":
            category = "file_event"
            Self.fileMap.apply(to: &fields)
        default:
            break
        }
        events.append(Event(
            time: time, machine: MachineIdentity(hostname: context.defaultHostname, platform: .macos),
            sourceFormat: Self.format, integration: context.integration,
            logSource: LogSource(product: "macos", category: category), fields: fields, raw: text, line: record.line))
        return nil
    }
}
