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
    static let hexEncodedKeys: Set<String> = ["proctitle", "cmd", "name", "exe", "comm", "cwd", "path", "data", "acct", "new", "old", "ocomm"]
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
    }

    private static let typeKey = FieldKey("type")
    private static let keys = ProcessKeys()

    private struct ProcessKeys {
        let image = FieldKey("Image"), commandLine = FieldKey("CommandLine"), currentDirectory = FieldKey("CurrentDirectory")
        let user = FieldKey("User"), processID = FieldKey("ProcessId"), parentProcessID = FieldKey("ParentProcessId")
        let exe = FieldKey("exe"), pid = FieldKey("pid"), ppid = FieldKey("ppid"), uid = FieldKey("uid"), enrichedUID = FieldKey("UID")
        let comm = FieldKey("comm"), auid = FieldKey("auid"), serial = FieldKey("audit_serial"), cwd = FieldKey("cwd")
    }

    let context: ParserContext
    private var fieldKeys = FieldKeyCache()
    private var groups: [String: Group] = [:]
    private var groupOrder: [String] = []
    /// The time of the last stamped record, given to unstamped ones.
    private var lastTime: Timestamp?

    public init(context: ParserContext) { self.context = context }

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

    /// Reads a record's header and its key-value pairs, decoding hex-encoded values.
    public static func scan(_ record: RawRecord, keys fieldKeys: inout FieldKeyCache) -> Result<ScannedRecord, RejectedRecord> {
        let text = record.text
        guard let header = Self.header(text) else {
            return .failure(RejectedRecord(line: record.line, reason: "not an auditd record: expected 'type=… msg=audit(<time>:<serial>): …'", raw: text))
        }
        var fields: [EventField] = [EventField(Self.typeKey, header.type)]
        var pairs = KeyValueScanner(text: text[header.bodyStart...])
        var arguments: [(index: Int, value: String)] = []
        while let (key, value, quoted) = pairs.next() {
            var value = value
            let isExecveArgument = header.type == "EXECVE" && key.first == "a" && key.dropFirst().allSatisfy(\.isNumber) && key.count > 1
            if !quoted, isExecveArgument || Self.hexEncodedKeys.contains(key), let decoded = Self.decodeHex(value) {
                value = decoded
            }
            if isExecveArgument, let index = Int(key.dropFirst()) { arguments.append((index, value)) }
            fields.append(EventField(fieldKeys.key(for: key), value))
        }
        fields.append(EventField(Self.keys.serial, header.serial))
        return .success(ScannedRecord(line: record.line, text: text, node: header.node, type: header.type, time: header.time,
                                      serial: header.serial, fields: fields, arguments: arguments))
    }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        switch Self.scan(record, keys: &fieldKeys) {
        case .success(let scanned): assemble(scanned, into: &events)
        case .failure(let rejection): rejection
        }
    }

    /// Turns a scanned record into its event, in input order: an unstamped record takes the
    /// time before it, and the record joins its serial's group (an EXECVE group closing yields
    /// its process event).
    public mutating func assemble(_ record: ScannedRecord, into events: inout [Event]) -> RejectedRecord? {
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
        var event = Event(
            time: time, machine: machine, sourceFormat: Self.format, integration: context.integration,
            logSource: LogSource(product: "linux", service: "auditd"), fields: record.fields, raw: record.text, line: record.line)
        if fromIngest { event.markTimeFromIngest() }
        events.append(event)

        guard !record.serial.isEmpty else { return nil }
        let groupKey = (record.node ?? "") + ":" + record.serial
        if groups[groupKey] == nil {
            groups[groupKey] = Group(firstLine: record.line, time: time, machine: machine)
            groupOrder.append(groupKey)
        }
        groups[groupKey]!.records.append(record.text)
        switch record.type {
        case "SYSCALL": groups[groupKey]!.syscall = record.fields
        case "EXECVE":
            groups[groupKey]!.hasExecve = true
            groups[groupKey]!.arguments += record.arguments
        case "CWD": groups[groupKey]!.currentDirectory = record.fields.first { $0.key == Self.keys.cwd }?.value
        default: break
        }
        if record.type == "EOE" {
            // The group a record ends is nearly always the newest: search from the end.
            flush(at: groupOrder.lastIndex(of: groupKey)!, into: &events)
        } else if groupOrder.count > Self.openGroupLimit {
            flush(at: 0, into: &events)
        }
        return nil
    }

    public mutating func finish(into events: inout [Event]) {
        while !groupOrder.isEmpty { flush(at: 0, into: &events) }
    }

    /// Closes the open group at `index` of `groupOrder`: an execve group becomes one process event.
    private mutating func flush(at index: Int, into events: inout [Event]) {
        let key = groupOrder.remove(at: index)
        guard let group = groups.removeValue(forKey: key) else { return }
        guard group.hasExecve else { return }
        let keys = Self.keys
        var fields: [EventField] = []
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
            logSource: LogSource(product: "linux", category: "process_creation"), fields: fields,
            raw: group.records.joined(separator: "\n"), line: group.firstLine))
    }

    private struct Header {
        var node: String?
        var type: String
        /// Nil for an unstamped record.
        var time: Timestamp?
        var serial: String
        var bodyStart: String.Index
    }

    private static func header(_ text: String) -> Header? {
        var rest = text[...]
        var node: String?
        if rest.hasPrefix("node=") {
            guard let space = rest.utf8.firstIndex(of: 0x20) else { return nil }
            node = String(rest[rest.utf8.index(rest.startIndex, offsetBy: 5)..<space])
            rest = rest[rest.utf8.index(after: space)...]
        }
        guard rest.hasPrefix("type="), let space = rest.utf8.firstIndex(of: 0x20) else { return nil }
        let type = String(rest[rest.utf8.index(rest.startIndex, offsetBy: 5)..<space])
        rest = rest[rest.utf8.index(after: space)...]
        if rest.hasPrefix("msg=?") {
            // The kernel could not stamp this record (`type=UNKNOWN[1329] msg=?`): keep it, untimed.
            return Header(node: node, type: type, time: nil, serial: "", bodyStart: rest.utf8.index(rest.startIndex, offsetBy: 5))
        }
        guard rest.hasPrefix("msg=audit("), let close = rest.utf8.firstIndex(of: UInt8(ascii: ")")) else { return nil }
        let stamp = rest[rest.utf8.index(rest.startIndex, offsetBy: 10)..<close]
        guard let colon = stamp.utf8.firstIndex(of: UInt8(ascii: ":")), let seconds = Double(stamp[..<colon]), let time = Timestamp(checkedSeconds: seconds) else { return nil }
        let serial = String(stamp[stamp.utf8.index(after: colon)...])
        var bodyStart = rest.utf8.index(after: close)
        if bodyStart < rest.endIndex, rest.utf8[bodyStart] == UInt8(ascii: ":") { bodyStart = rest.utf8.index(after: bodyStart) }
        return Header(node: node, type: type, time: time, serial: serial, bodyStart: bodyStart)
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
/// enriched-field separator `\u{1D}` counts as a space.
struct KeyValueScanner {
    private var text: Substring
    private var nested: [Substring] = []

    init(text: Substring) { self.text = text }

    mutating func next() -> (key: String, value: String, quoted: Bool)? {
        // Searches run over UTF-8 bytes (every delimiter is ASCII); the indices they return are
        // scalar-aligned, so the Substring is sliced with them directly.
        @inline(__always) func isGap(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x1D || byte == 0x09 }
        while true {
            text = text[(text.utf8.firstIndex { !isGap($0) } ?? text.endIndex)...]
            if text.isEmpty {
                guard let outer = nested.popLast() else { return nil }
                text = outer
                continue
            }
            let tokenEnd = text.utf8.firstIndex { $0 == 0x20 || $0 == UInt8(ascii: "=") || $0 == 0x1D } ?? text.endIndex
            guard tokenEnd < text.endIndex, text.utf8[tokenEnd] == UInt8(ascii: "=") else {
                // A bare word without a value (`tty` in TTY records): skip it.
                text = text[tokenEnd...]
                continue
            }
            let key = String(text[..<tokenEnd])
            var valueStart = text.utf8.index(after: tokenEnd)
            guard valueStart < text.endIndex else {
                text = text[valueStart...]
                return (key, "", false)
            }
            let quote = text.utf8[valueStart]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                valueStart = text.utf8.index(after: valueStart)
                let close = text.utf8[valueStart...].firstIndex(of: quote) ?? text.endIndex
                let value = text[valueStart..<close]
                text = close < text.endIndex ? text[text.utf8.index(after: close)...] : text[close...]
                if quote == UInt8(ascii: "'"), value.utf8.contains(UInt8(ascii: "=")) {
                    // A nested message: its pairs become fields too.
                    nested.append(text)
                    text = value
                    continue
                }
                return (key, String(value), true)
            }
            let valueEnd = text.utf8[valueStart...].firstIndex { $0 == 0x20 || $0 == 0x1D } ?? text.endIndex
            let value = String(text[valueStart..<valueEnd])
            text = text[valueEnd...]
            return (key, value, false)
        }
    }
}
