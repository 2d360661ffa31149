import Foundation
import VigilModel

/// ClamAV logs: clamd's `LogFile` (`<ctime> -> message`), and `clamscan`/`clamdscan` output
/// and `-l` log files (`/path: Signature FOUND`, `/path: OK`, then a scan summary).
///
/// Every log line is an event of service `clamav`. A `FOUND` line is also category
/// `antivirus` with `Filename`, `Signature`, `Action` (`found`) and, with clamd's
/// ExtendedDetectionInfo, `md5` and `FileSize`. Scan logs print their date only in the
/// summary, so their results wait for the `Start Date:` line (or the end of the input) to
/// get their time; ClamAV writes local time, which Vigil reads as UTC.
/// Separator and summary lines yield no event.
public struct ClamAVParser: EventParser {
    public static let format = "clamav"
    /// Scan results held while waiting for a summary date; more than this are stamped with the import time.
    static let pendingLimit = 10_000

    static let keys = (filename: FieldKey("Filename"), signature: FieldKey("Signature"), action: FieldKey("Action"),
                       md5: FieldKey("md5"), size: FieldKey("FileSize"), message: FieldKey("message"), threatName: FieldKey("threat_name"))

    let context: ParserContext
    private var platform: OSPlatform = .linux
    private var pending: [Event] = []
    public private(set) var skippedRecords = 0

    public init(context: ParserContext) { self.context = context }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        let text = record.text
        if let arrow = text.byteRange(of: " -> "), let time = Self.ctime(text[..<arrow.lowerBound]) {
            let message = text[arrow.upperBound...]
            if message.hasBytes("(OS: Darwin") { platform = .macos }
            events.append(makeEvent(message: message, time: time, record: record))
            return nil
        }
        if text.allSatisfy({ $0 == "-" }) || text.hasPrefix("----------- SCAN SUMMARY") {
            skippedRecords += 1
            return nil
        }
        if text.hasPrefix("Start Date:") {
            skippedRecords += 1
            let date = text.dropFirst("Start Date:".count).trimmingCharacters(in: .whitespaces)
            flushPending(at: Self.summaryDate(date), into: &events)
            return nil
        }
        if text.hasBytes(": "), text.hasSuffix(" FOUND") || text.hasSuffix(": OK") || text.hasSuffix(" ERROR") {
            pending.append(makeEvent(message: text[...], time: Timestamp(microseconds: 0), record: record))
            if pending.count > Self.pendingLimit { flushPending(at: nil, into: &events) }
            return nil
        }
        if let colon = text.firstIndex(of: ":"), !text[..<colon].isEmpty, text[..<colon].allSatisfy({ $0.isLetter || $0 == " " || $0 == "(" || $0 == ")" }) {
            skippedRecords += 1  // A summary line such as "Scanned files: 10".
            return nil
        }
        return RejectedRecord(line: record.line, reason: "not a ClamAV log line: expected '<date> -> message', '/path: Signature FOUND' or a scan summary", raw: text)
    }

    public mutating func finish(into events: inout [Event]) {
        flushPending(at: nil, into: &events)
    }

    /// Dates the held scan results with the scan summary's date; without one (nil), they carry
    /// no time at all and are stored at ingest time, flagged.
    private mutating func flushPending(at time: Timestamp?, into events: inout [Event]) {
        for var event in pending {
            event.time = time ?? context.now
            if time == nil { event.markTimeFromIngest() }
            events.append(event)
        }
        pending.removeAll()
    }

    private func makeEvent(message: Substring, time: Timestamp, record: RawRecord) -> Event {
        let keys = Self.keys
        var fields = [EventField(keys.message, String(message))]
        var category: String?
        // "/path: Signature(md5:size) FOUND" or "/path: Signature FOUND" or "/path: OK"
        if message.hasSuffix(" FOUND") || message.hasSuffix(": OK") || message.hasSuffix(" ERROR"),
            let separator = Self.lastSeparator(in: message)
        {
            let path = message[..<separator.lowerBound]
            let verdict = message[separator.upperBound...]
            fields.append(EventField(keys.filename, String(path)))
            if verdict.hasSuffix(" FOUND") {
                category = "antivirus"
                var signature = verdict.dropLast(" FOUND".count)
                if signature.hasSuffix(")"), let open = signature.lastIndex(of: "(") {
                    let details = signature[signature.index(after: open)..<signature.index(before: signature.endIndex)].split(separator: ":")
                    if details.count == 2 {
                        fields.append(EventField(keys.md5, String(details[0])))
                        fields.append(EventField(keys.size, String(details[1])))
                    }
                    signature = signature[..<open]
                }
                fields.append(EventField(keys.signature, String(signature)))
                fields.append(EventField(keys.threatName, String(signature)))
                fields.append(EventField(keys.action, "found"))
            } else {
                fields.append(EventField(keys.action, verdict.lowercased()))
            }
        }
        return Event(
            time: time, machine: MachineIdentity(hostname: context.defaultHostname, platform: platform),
            sourceFormat: Self.format, integration: context.integration,
            logSource: LogSource(product: platform.sigmaProduct, category: category, service: "clamav"),
            fields: fields, raw: record.text, line: record.line)
    }

    /// The last `: ` in `message`, found by bytes: Foundation's backward `range(of:)` bridges
    /// each line to NSString (a sixth of the parsing thread's time on clamd's log).
    static func lastSeparator(in message: Substring) -> Range<Substring.Index>? {
        let bytes = message.utf8
        var end = bytes.endIndex
        while let colon = bytes[..<end].lastIndex(of: UInt8(ascii: ":")) {
            let space = bytes.index(after: colon)
            if space < bytes.endIndex, bytes[space] == UInt8(ascii: " ") { return colon..<bytes.index(after: space) }
            end = colon
        }
        return nil
    }

    /// `Fri Nov 27 20:23:24 2026` (a day under 10 may be padded with a second space): five
    /// words, read by bytes.
    static func ctime(_ text: Substring) -> Timestamp? {
        var text = text
        return text.withUTF8 { bytes in
            var index = 0
            func nextWord() -> Range<Int>? {
                while index < bytes.count, bytes[index] == 0x20 { index += 1 }
                guard index < bytes.count else { return nil }
                let end = bytes.firstIndex(of: 0x20, in: index..<bytes.count) ?? bytes.count
                defer { index = end }
                return index..<end
            }
            guard nextWord() != nil, let monthWord = nextWord(), let dayWord = nextWord(), let clockWord = nextWord(),
                  let yearWord = nextWord(), nextWord() == nil,
                  let month = SyslogHeader.month(bytes, monthWord), let day = bytes.integer(dayWord),
                  let year = bytes.integer(yearWord), let clock = SyslogHeader.timeOfDay(bytes, clockWord)
            else { return nil }
            return Timestamp(year: year, month: month + 1, day: day, hour: clock.hour, minute: clock.minute, second: clock.second)
        }
    }

    /// `2026:11:27 20:23:36`.
    static func summaryDate(_ text: String) -> Timestamp? {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == " " }).compactMap { Int($0) }
        guard parts.count == 6 else { return nil }
        return Timestamp(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5])
    }
}
