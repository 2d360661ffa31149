import VigilModel

/// Turns framed records of one source format into normalized events.
///
/// A parser may hold state across records (auditd groups records by serial); `finish`
/// flushes what it still holds at the end of an input.
public protocol EventParser {
    /// The format name the CLI and API use (`json`, `auditd`, …).
    static var format: String { get }

    /// Parses one record, appending zero or more events; returns why it was rejected, if it was.
    mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord?

    /// Appends any events still held at the end of the input.
    mutating func finish(into events: inout [Event])

    /// Records read fine that carry no event and never will (status and summary lines).
    var skippedRecords: Int { get }

    /// True when each record parses on its own (no state across records), so slices of a
    /// batch may be parsed in parallel by separate parser instances.
    static var isStateless: Bool { get }

    /// Parses framed `items` in order, as `parse(_:into:rejected:)` does; a stateful parser
    /// whose records need no state up to a last step (`ScanningParser`) spreads that share over
    /// `slices` slices, which `runSlices` runs on several threads.
    mutating func parse(_ items: [RecordFramer.Item], into events: inout [Event], rejected: inout [RejectedRecord],
                        slices: Int, runSlices: SliceRunner)
}

/// Runs `body` for each slice number below `count`, on several threads at once where it can,
/// and returns once every slice is done.
public typealias SliceRunner = (_ count: Int, _ body: @Sendable (Int) -> Void) -> Void

/// A stateful parser whose records each parse on their own up to a last, ordered step
/// (auditd: a record's fields need no other record; its group does). Workers `scan` slices of
/// a batch at once; one thread then `assemble`s what they scanned, in input order.
public protocol ScanningParser: EventParser {
    associatedtype ScannedRecord: Sendable
    /// What `record` says on its own, or why it is rejected. `keys` is the calling thread's own.
    static func scan(_ record: RawRecord, keys: inout FieldKeyCache) -> Result<ScannedRecord, RejectedRecord>
    /// Turns what the workers scanned into events, in input order: slot `i` holds the scan of
    /// `items[i]`, or nil where the framer refused it. Each parser implements the loop on its own
    /// concrete type: a generic loop copied each scanned record whole out of its slot (a
    /// retain and a release of every string and array in it).
    mutating func assemble(_ scanned: inout [Result<ScannedRecord, RejectedRecord>?], of items: [RecordFramer.Item],
                           into events: inout [Event], rejected: inout [RejectedRecord])
}

extension ScanningParser {
    public mutating func parse(_ items: [RecordFramer.Item], into events: inout [Event], rejected: inout [RejectedRecord],
                               slices: Int, runSlices: SliceRunner) {
        guard slices > 1 else { return parse(items, into: &events, rejected: &rejected) }
        var scanned = [Result<ScannedRecord, RejectedRecord>?](repeating: nil, count: items.count)
        scanned.withUnsafeMutableBufferPointer { slots in
            let shared = UnsafeDisjointWrites(slots: slots, context: items)
            runSlices(slices) { slice in
                var keys = FieldKeyCache()
                let count = shared.context.count
                for index in count * slice / slices..<count * (slice + 1) / slices {
                    if case .record(let record) = shared.context[index] { shared.write(Self.scan(record, keys: &keys), at: index) }
                }
            }
        }
        assemble(&scanned, of: items, into: &events, rejected: &rejected)
    }
}

extension EventParser {
    /// Parses framed `items` in order: their events go to `events`, and records the framer or
    /// the parser refused go to `rejected`. The one parse loop every reader shares.
    public mutating func parse(_ items: some Sequence<RecordFramer.Item>, into events: inout [Event], rejected: inout [RejectedRecord]) {
        for item in items {
            switch item {
            case .record(let record): if let rejection = parse(record, into: &events) { rejected.append(rejection) }
            case .rejected(let rejection): rejected.append(rejection)
            }
        }
    }

    public mutating func finish(into events: inout [Event]) {}
    public var skippedRecords: Int { 0 }
    public static var isStateless: Bool { false }

    public mutating func parse(_ items: [RecordFramer.Item], into events: inout [Event], rejected: inout [RejectedRecord],
                               slices: Int, runSlices: SliceRunner) {
        parse(items, into: &events, rejected: &rejected)
    }
}

/// The source formats Vigil reads, and a parser for each.
public enum SourceFormat: String, CaseIterable, Sendable {
    case auditd
    case sysmonLinux = "sysmon-linux"
    case santa
    case eslogger
    case jamfProtect = "jamf-protect"
    case unifiedLog = "unified-log"
    case osquery
    case clamav
    case cef
    case mobileThreatDefense = "mobile-threat-defense"
    case syslog
    case json

    /// A fresh parser for this format.
    public func makeParser(context: ParserContext) -> any EventParser {
        switch self {
        case .auditd: AuditdParser(context: context)
        case .sysmonLinux: SysmonLinuxParser(context: context)
        case .santa: SantaParser(context: context)
        case .eslogger: EndpointSecurityParser(context: context)
        case .jamfProtect: EndpointSecurityParser(context: context, formatName: rawValue)
        case .unifiedLog: UnifiedLogParser(context: context)
        case .osquery: OsqueryParser(context: context)
        case .clamav: ClamAVParser(context: context)
        case .cef: CEFParser(context: context)
        case .mobileThreatDefense: MobileThreatDefenseParser(context: context)
        case .syslog: SyslogParser(context: context)
        case .json: JSONEventParser(context: context)
        }
    }

    /// Picks the format of an input from its first records; nil when nothing fits.
    ///
    /// Each sample record votes; the format most records agree on wins, the more specific
    /// formats first on a tie.
    public static func detect(sample: [String]) -> SourceFormat? {
        var votes: [SourceFormat: Int] = [:]
        for line in sample.prefix(50) {
            if let format = detect(line: line) { votes[format, default: 0] += 1 }
        }
        return allCases.filter { votes[$0] != nil }.max { votes[$0]! < votes[$1]! }
    }

    /// The format of `framer`'s input, or an error that says to name it.
    public static func detect(_ framer: RecordFramer, path: String) throws(IngestError) -> SourceFormat {
        guard let detected = detect(sample: try framer.sample()) else {
            throw IngestError(.format, "cannot tell the format of \(path); name it with --format (\(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return detected
    }

    static func detect(line: String) -> SourceFormat? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        if trimmed.contains("CEF:") && trimmed.contains("|") { return .cef }
        if trimmed.hasPrefix("type=") || trimmed.hasPrefix("node="), trimmed.contains("msg=audit(") || trimmed.contains("msg=?") { return .auditd }
        if trimmed.hasPrefix("{") {
            if trimmed.contains("\"event_type\""), trimmed.contains("\"event\"") {
                return trimmed.contains("\"Jamf\"") || trimmed.contains("\"protectVersion\"") ? .jamfProtect : .eslogger
            }
            if trimmed.contains("\"hostIdentifier\""), trimmed.contains("\"name\"") { return .osquery }
            if trimmed.contains("\"eventMessage\""), trimmed.contains("\"processImagePath\"") || trimmed.contains("\"subsystem\"") { return .unifiedLog }
            if trimmed.contains("\"DevicePlatform_s\"") || trimmed.contains("\"ThreatType_s\"") { return .mobileThreatDefense }
            return .json
        }
        if trimmed.hasPrefix("[") {
            if trimmed.contains("] I santad:") || trimmed.contains("santad: action=") { return .santa }
            return nil
        }
        if trimmed.contains(" -> "), ClamAVParser.ctime(trimmed.prefix { $0 != "-" }.dropLast()) != nil { return .clamav }
        if trimmed.contains(": "), trimmed.hasSuffix(" FOUND") || trimmed.hasSuffix(": OK") { return .clamav }
        if trimmed.hasPrefix("----------- SCAN SUMMARY") { return .clamav }
        if let header = SyslogHeader(String(trimmed)) {
            return header.message.contains("<Event><System>") || header.program.lowercased().hasPrefix("sysmon") ? .sysmonLinux : .syslog
        }
        return nil
    }
}
