import VigilModel

/// Linux auditd raw logs: `[node=H ]type=T msg=audit(<epoch>.<ms>:<serial>): key=value …`.
///
/// Each record is an event of service `auditd` carrying every key (Sigma's auditd rules are
/// written against single records). Quoted values keep their spaces; hex-encoded strings
/// (`proctitle`, EXECVE arguments, unquoted `name`, `cmd`, …) are decoded; enriched fields
/// after the `\u{1D}` separator (`SYSCALL=`, `UID=`, …) are kept under their own names.
///
/// The records of one audit event share a serial and may interleave with other events.
/// When a group holds an EXECVE it also yields a `process_creation` event with `Image`,
/// `CommandLine`, `CurrentDirectory`, `User`, `ProcessId` and `ParentProcessId`.
public struct AuditdParser: ScanningParser {
    public static let format = "auditd"

    /// Keys whose unquoted values are hex-encoded strings.
    /// Searched linearly: a dozen integer compares cost less than hashing a key per field.
    private static let hexEncodedKeys = ["proctitle", "cmd", "name", "exe", "comm", "cwd", "path", "data", "acct", "new", "old", "ocomm"]
        .map(FieldKey.init)
    /// How many incomplete groups to hold before the oldest is flushed.
    static let openGroupLimit = 256

    private struct Group {
        var firstLine: Int
        var time: Timestamp
        var machine: MachineIdentity
        var records: [String] = []
        var syscall: [EventField] = []
        var arguments: [(index: Int, value: String)] = []
        var currentDirectory: String?
        var hasExecve = false

        /// Takes what the group needs of one of its records; returns whether the record opened it.
        mutating func join(_ record: borrowing ScannedRecord) -> Bool {
            let opens = records.isEmpty
            records.append(record.text)
            switch record.type {
            case "SYSCALL": syscall = record.fields
            case "EXECVE":
                hasExecve = true
                arguments += record.arguments
            case "CWD": currentDirectory = record.fields.first { $0.key == AuditdParser.keys.cwd }?.value
            default: break
            }
            return opens
        }
    }

    private static let typeKey = FieldKey("type")
    /// Built once: `LogSource` lowercases its parts, which cost a measurable share of assembly.
    private static let recordSource = LogSource(product: "linux", service: "auditd")
    private static let processSource = LogSource(product: "linux", category: "process_creation")
    private static let keys = ProcessKeys()

    private struct ProcessKeys {
        let image = FieldKey("Image"), commandLine = FieldKey("CommandLine"), currentDirectory = FieldKey("CurrentDirectory")
        let user = FieldKey("User"), processID = FieldKey("ProcessId"), parentProcessID = FieldKey("ParentProcessId")
        let exe = FieldKey("exe"), pid = FieldKey("pid"), ppid = FieldKey("ppid"), uid = FieldKey("uid"), enrichedUID = FieldKey("UID")
        let comm = FieldKey("comm"), auid = FieldKey("auid"), serial = FieldKey("audit_serial"), cwd = FieldKey("cwd")
    }

    let context: ParserContext
    private var fieldKeys = FieldKeyCache()
    /// A group is the records of one node with one serial.
    private struct GroupKey: Hashable {
        var node: String?
        var serial: String
    }

    private var groups: [GroupKey: Group] = [:]
    /// The open groups' keys, oldest first, from `groupOrderStart`: closing the oldest group
    /// (a log without EOE records closes every group so) moves no other key.
    private var groupOrder: [GroupKey] = []
    private var groupOrderStart = 0
    /// The time of the last stamped record, given to unstamped ones.
    private var lastTime: Timestamp?

    public init(context: ParserContext) {
        self.context = context
        // Room for four times the open groups: closing a group then rarely shifts (and rehashes)
        // the keys after it in the table.
        groups.reserveCapacity(4 * Self.openGroupLimit)
    }

    /// What one record says on its own: the share of its parse that needs no earlier record.
    public struct ScannedRecord: Sendable {
        var line: Int
        var text: String
        var node: String?
        var type: String
        /// Nil for an unstamped record.
        var time: Timestamp?
        var serial: String
        var fields: [EventField]
        var arguments: [(index: Int, value: String)]
    }

    /// Reads a record's header and its key-value pairs, decoding hex-encoded values. Runs over
    /// the record's UTF-8 bytes: every delimiter is ASCII.
    public static func scan(_ record: RawRecord, keys fieldKeys: inout FieldKeyCache) -> Result<ScannedRecord, RejectedRecord> {
        var text = record.text
        let scanned: ScannedRecord? = text.withUTF8 { bytes in
            guard let header = Self.header(bytes) else { return nil }
            // Every pair has an '=': their count bounds the fields, so the array is allocated once.
            let pairCount = bytes.count(of: UInt8(ascii: "="), in: header.bodyStart..<bytes.count)
            var fields: [EventField] = []
            fields.reserveCapacity(pairCount + 2)
            fields.append(EventField(Self.typeKey, header.type))
            var pairs = KeyValueScanner(bytes: bytes, from: header.bodyStart)
            var arguments: [(index: Int, value: String)] = []
            let isExecve = header.type == "EXECVE"
            if isExecve { arguments.reserveCapacity(pairCount) }
            while let (key, value, quoted) = pairs.next() {
                var value = value
                // The key is interned from its bytes and checked as an integer: no String, no string hash.
                let fieldKey = fieldKeys.key(forUTF8: UnsafeBufferPointer(rebasing: bytes[key]))
                let argumentIndex = isExecve ? Self.execveArgumentIndex(bytes, key) : nil
                if !quoted, argumentIndex != nil || Self.hexEncodedKeys.contains(fieldKey), let decoded = Self.decodeHex(value) {
                    value = decoded
                }
                if let argumentIndex { arguments.append((argumentIndex, value)) }
                fields.append(EventField(fieldKey, value))
            }
            fields.append(EventField(Self.keys.serial, header.serial))
            return ScannedRecord(line: record.line, text: record.text, node: header.node, type: header.type, time: header.time,
                                 serial: header.serial, fields: fields, arguments: arguments)
        }
        guard let scanned else {
            return .failure(RejectedRecord(line: record.line, reason: "not an auditd record: expected 'type=… msg=audit(<time>:<serial>): …'", raw: record.text))
        }
        return .success(scanned)
    }

    /// The index of an EXECVE argument key (`a0`, `a1`, …), or nil for another key (`argc`, `a1_len`).
    private static func execveArgumentIndex(_ bytes: UnsafeBufferPointer<UInt8>, _ key: Range<Int>) -> Int? {
        guard key.count > 1, key.count <= 10, bytes[key.lowerBound] == UInt8(ascii: "a") else { return nil }
        var index = 0
        for offset in (key.lowerBound + 1)..<key.upperBound {
            let digit = bytes[offset] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            index = index * 10 + Int(digit)
        }
        return index
    }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        switch Self.scan(record, keys: &fieldKeys) {
        case .success(let scanned): assemble(scanned, into: &events)
        case .failure(let rejection): rejection
        }
    }

    public mutating func assemble(_ scanned: inout [Result<ScannedRecord, RejectedRecord>?], of items: [RecordFramer.Item],
                                  into events: inout [Event], rejected: inout [RejectedRecord]) {
        // Each scanned record is moved out of its slot, not copied: its fields go on into its
        // event without a reference count taken and dropped per value. (Binding the slot to a
        // local first, and then switching on it, copied the record; so did the generic loop.)
        for index in items.indices {
            switch scanned[index].take() {
            case .failure(let rejection)?: rejected.append(rejection)
            case .success(let record)?: if let rejection = assemble(record, into: &events) { rejected.append(rejection) }
            case nil:
                guard case .rejected(let rejection) = items[index] else { assertionFailure("a framed record was not scanned"); continue }
                rejected.append(rejection)
            }
        }
    }

    /// Turns a scanned record into its event, in input order: an unstamped record takes the
    /// time before it, and the record joins its serial's group (an EXECVE group closing yields
    /// its process event).
    mutating func assemble(_ scanned: consuming ScannedRecord, into events: inout [Event]) -> RejectedRecord? {
        var record = consume scanned
        let machine = MachineIdentity(hostname: record.node ?? context.defaultHostname, platform: .linux)
        // An unstamped record takes the time of the stamped one before it; with none, it is refused
        // (or, with acceptIngestTime, stored at ingest time, flagged).
        var fromIngest = false
        let time: Timestamp
        if let stamped = record.time ?? lastTime {
            time = stamped
        } else {
            switch context.unreadableTime("(no msg=audit(<time>:<serial>) stamp, and no stamped record before it)") {
            case .success(let read): (time, fromIngest) = read
            case .failure(let refusal): return RejectedRecord(line: record.line, reason: refusal.reason, raw: record.text)
            }
        }
        lastTime = time
        // The record's group takes what it needs first (one hash finds or opens it); then the
        // record's text and fields move into its event, rather than being copied and released.
        let groupKey = record.serial.isEmpty ? nil : GroupKey(node: record.node, serial: record.serial)
        let line = record.line
        if let groupKey, groups[groupKey, default: Group(firstLine: line, time: time, machine: machine)].join(record) {
            groupOrder.append(groupKey)
        }
        let endsGroup = record.type == "EOE"
        var fields: [EventField] = []
        swap(&fields, &record.fields)
        var raw = ""
        swap(&raw, &record.text)
        // Built in the array, not in a local: appending a local copied the event.
        events.append(Event(
            time: time, machine: machine, sourceFormat: Self.format, integration: context.integration,
            logSource: Self.recordSource, fields: fields, raw: raw, line: line))
        if fromIngest { events[events.endIndex - 1].markTimeFromIngest() }

        guard let groupKey else { return nil }
        if endsGroup {
            // The group a record ends is nearly always the newest: search from the end.
            flush(at: groupOrder[groupOrderStart...].lastIndex(of: groupKey)!, into: &events)
        } else if groupOrder.count - groupOrderStart > Self.openGroupLimit {
            flush(at: groupOrderStart, into: &events)
        }
        return nil
    }

    public mutating func finish(into events: inout [Event]) {
        while groupOrderStart < groupOrder.count { flush(at: groupOrderStart, into: &events) }
    }

    /// Closes the open group at `index` of `groupOrder`: an execve group becomes one process event.
    private mutating func flush(at index: Int, into events: inout [Event]) {
        let key: GroupKey
        if index == groupOrderStart {
            key = groupOrder[index]
            groupOrderStart += 1
            // The closed keys before the start are dropped once they outnumber the open ones.
            if groupOrderStart > Self.openGroupLimit, groupOrderStart * 2 > groupOrder.count {
                groupOrder.removeFirst(groupOrderStart)
                groupOrderStart = 0
            }
        } else {
            key = groupOrder.remove(at: index)
        }
        guard let group = groups.removeValue(forKey: key) else { return }
        guard group.hasExecve else { return }
        let keys = Self.keys
        var fields: [EventField] = []
        fields.reserveCapacity(9)
        let syscallValue = { (key: FieldKey) in group.syscall.first { $0.key == key }?.value }
        if let exe = syscallValue(keys.exe) { fields.append(EventField(keys.image, exe)) }
        let commandLine = group.arguments.sorted { $0.index < $1.index }.map(\.value).joined(separator: " ")
        fields.append(EventField(keys.commandLine, commandLine))
        if let directory = group.currentDirectory { fields.append(EventField(keys.currentDirectory, directory)) }
        if let user = syscallValue(keys.enrichedUID) ?? syscallValue(keys.uid) { fields.append(EventField(keys.user, user)) }
        if let pid = syscallValue(keys.pid) { fields.append(EventField(keys.processID, pid)) }
        if let ppid = syscallValue(keys.ppid) { fields.append(EventField(keys.parentProcessID, ppid)) }
        for key in [keys.comm, keys.auid, keys.uid] { if let value = syscallValue(key) { fields.append(EventField(key, value)) } }
        events.append(Event(
            time: group.time, machine: group.machine, sourceFormat: Self.format, integration: context.integration,
            logSource: Self.processSource, fields: fields,
            raw: group.records.joined(separator: "\n"), line: group.firstLine))
    }

    private struct Header {
        var node: String?
        var type: String
        /// Nil for an unstamped record.
        var time: Timestamp?
        var serial: String
        /// The offset of the key-value pairs.
        var bodyStart: Int
    }

    /// `[node=H ]type=T msg=audit(<epoch>:<serial>):` or `… msg=?` (the kernel could not stamp
    /// the record: kept, untimed); nil when the record has no such header.
    private static func header(_ bytes: UnsafeBufferPointer<UInt8>) -> Header? {
        var position = 0
        var node: String?
        if bytes.hasPrefix("node=", at: 0) {
            guard let space = bytes.firstIndex(of: 0x20, in: 0..<bytes.count) else { return nil }
            node = bytes.string(5..<space)
            position = space + 1
        }
        guard bytes.hasPrefix("type=", at: position), let space = bytes.firstIndex(of: 0x20, in: position..<bytes.count) else { return nil }
        let type = bytes.string(position + 5..<space)
        position = space + 1
        if bytes.hasPrefix("msg=?", at: position) {
            return Header(node: node, type: type, time: nil, serial: "", bodyStart: position + 5)
        }
        guard bytes.hasPrefix("msg=audit(", at: position), let close = bytes.firstIndex(of: UInt8(ascii: ")"), in: position..<bytes.count) else { return nil }
        let stamp = position + 10..<close
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":"), in: stamp),
              let time = stampTime(UnsafeBufferPointer(rebasing: bytes[stamp.lowerBound..<colon])) else { return nil }
        let serial = bytes.string(colon + 1..<close)
        var bodyStart = close + 1
        if bodyStart < bytes.count, bytes[bodyStart] == UInt8(ascii: ":") { bodyStart += 1 }
        return Header(node: node, type: type, time: time, serial: serial, bodyStart: bodyStart)
    }

    /// The time of a stamp's `<seconds>.<fraction>`, as `Timestamp(checkedSeconds:)` reads the
    /// number: nil when it is not one or out of range.
    ///
    /// Plain digits (at most ten, below 2^32 seconds, with at most six after the point, as every
    /// auditd stamp is) are read as integers, without a String or `strtod`. For those the
    /// floating-point reading is exact too (its error stays below half a microsecond), so both
    /// give the same time, and an event's identity does not depend on the path. Anything else
    /// goes through `Double`.
    package static func stampTime(_ text: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        var seconds: Int64 = 0
        var index = 0
        while index < text.count, index < 10, case let digit = text[index] &- UInt8(ascii: "0"), digit < 10 {
            seconds = seconds * 10 + Int64(digit)
            index += 1
        }
        var fraction: Int64 = 0
        var scale: Int64 = 1_000_000
        if index > 0, index < text.count, text[index] == UInt8(ascii: ".") {
            index += 1
            while index < text.count, scale > 1, case let digit = text[index] &- UInt8(ascii: "0"), digit < 10 {
                scale /= 10
                fraction += Int64(digit) * scale
                index += 1
            }
        }
        if index > 0, index == text.count, text.last != UInt8(ascii: "."), seconds < 1 << 32 {
            return Timestamp(microseconds: seconds * 1_000_000 + fraction)
        }
        return Double(String(decoding: text, as: UTF8.self)).flatMap(Timestamp.init(checkedSeconds:))
    }

    /// Decodes an even-length hex string to text (NULs, as in proctitle, become spaces); nil when not hex.
    static func decodeHex(_ value: String) -> String? {
        let digits = Array(value.utf8)
        guard digits.count >= 2, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        while bytes.last == 0 { bytes.removeLast() }
        return String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }
}

/// Scans `key=value` pairs separated by spaces. Values may be `"double"` or `'single'`
/// quoted; a single-quoted `msg='…'` holds more pairs, which are scanned as well. The
/// enriched-field separator `\u{1D}` counts as a space. Runs over UTF-8 bytes by offset: every
/// delimiter is ASCII, so every slice it makes is whole characters' bytes.
struct KeyValueScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    /// What is left to scan, and what is left of the messages that enclose it.
    private var rest: Range<Int>
    private var enclosing: [Range<Int>] = []

    /// Unsafe: `bytes` must stay valid while the scanner is used (inside the `withUTF8` that gave them).
    init(bytes: UnsafeBufferPointer<UInt8>, from start: Int) {
        self.bytes = bytes
        rest = min(start, bytes.count)..<bytes.count
    }

    /// The next pair: the key's byte range, and the value (unquoted).
    mutating func next() -> (key: Range<Int>, value: String, quoted: Bool)? {
        @inline(__always) func isGap(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x1D || byte == 0x09 }
        while true {
            var start = rest.lowerBound
            while start < rest.upperBound, isGap(bytes[start]) { start += 1 }
            guard start < rest.upperBound else {
                guard let outer = enclosing.popLast() else { return nil }
                rest = outer
                continue
            }
            let tokenEnd = bytes.firstIndex(ofAny: 0x20, UInt8(ascii: "="), 0x1D, in: start..<rest.upperBound) ?? rest.upperBound
            guard tokenEnd < rest.upperBound, bytes[tokenEnd] == UInt8(ascii: "=") else {
                // A bare word without a value (`tty` in TTY records): skip it.
                rest = tokenEnd..<rest.upperBound
                continue
            }
            let key = start..<tokenEnd
            var valueStart = tokenEnd + 1
            guard valueStart < rest.upperBound else {
                rest = valueStart..<rest.upperBound
                return (key, "", false)
            }
            let quote = bytes[valueStart]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                valueStart += 1
                let close = bytes.firstIndex(ofAny: quote, quote, quote, in: valueStart..<rest.upperBound) ?? rest.upperBound
                let value = valueStart..<close
                rest = min(close + 1, rest.upperBound)..<rest.upperBound
                if quote == UInt8(ascii: "'"), bytes.firstIndex(of: UInt8(ascii: "="), in: value) != nil {
                    // A nested message: its pairs become fields too.
                    enclosing.append(rest)
                    rest = value
                    continue
                }
                return (key, bytes.string(value), true)
            }
            let valueEnd = bytes.firstIndex(ofAny: 0x20, 0x1D, 0x1D, in: valueStart..<rest.upperBound) ?? rest.upperBound
            rest = valueEnd..<rest.upperBound
            return (key, bytes.string(valueStart..<valueEnd), false)
        }
    }
}
