import VigilModel

/// Apple Endpoint Security events as JSON: `eslogger` output (format `eslogger`) and Jamf
/// Protect telemetry (format `jamf-protect`, which adds `host` and `metadata`).
///
/// Every key is kept by dotted path. The event type picks the Sigma category and mapping:
/// exec and fork → process_creation, exit → process_termination, create, rename, unlink,
/// write, open, close, link, truncate… → file_event; the others keep category-less product
/// macos events.
public struct EndpointSecurityParser: EventParser {
    public static let format = "eslogger"
    public static let isStateless = true

    /// `es_event_type_t` → (name, Sigma category).
    public static let eventTypes: [String: (name: String, category: String?)] = [
        "9": ("exec", "process_creation"), "11": ("fork", "process_creation"), "15": ("exit", "process_termination"),
        "10": ("open", "file_event"), "12": ("close", "file_event"), "13": ("create", "file_event"),
        "25": ("rename", "file_event"), "32": ("unlink", "file_event"), "33": ("write", "file_event"),
        "19": ("link", "file_event"), "36": ("truncate", "file_event"), "31": ("setextattr", "file_event"),
    ]

    /// ES paths → Sigma names, per event name; `process.*` is the acting process.
    public static let maps: [String: FieldMap] = [
        "exec": FieldMap([
            ("event.exec.target.executable.path", "Image"), ("event.exec.args", "CommandLine"),
            ("process.executable.path", "ParentImage"), ("event.exec.cwd.path", "CurrentDirectory"),
            ("event.exec.target.audit_token.pid", "ProcessId"), ("process.audit_token.pid", "ParentProcessId"),
            ("event.exec.target.audit_token.euid", "User"),
        ]),
        "fork": FieldMap([
            ("event.fork.child.executable.path", "Image"), ("process.executable.path", "ParentImage"),
            ("event.fork.child.audit_token.pid", "ProcessId"), ("process.audit_token.pid", "ParentProcessId"),
        ]),
        "create": FieldMap([("event.create.destination.existing_file.path", "TargetFilename"), ("process.executable.path", "Image")]),
        "rename": FieldMap([("event.rename.destination.existing_file.path", "TargetFilename"), ("event.rename.source.path", "SourceFilename"),
                            ("process.executable.path", "Image")]),
        "unlink": FieldMap([("event.unlink.target.path", "TargetFilename"), ("process.executable.path", "Image")]),
        "write": FieldMap([("event.write.target.path", "TargetFilename"), ("process.executable.path", "Image")]),
        "open": FieldMap([("event.open.file.path", "TargetFilename"), ("process.executable.path", "Image")]),
        "close": FieldMap([("event.close.target.path", "TargetFilename"), ("process.executable.path", "Image")]),
        "link": FieldMap([("event.link.source.path", "TargetFilename"), ("process.executable.path", "Image")]),
        "truncate": FieldMap([("event.truncate.target.path", "TargetFilename"), ("process.executable.path", "Image")]),
        "setextattr": FieldMap([("event.setextattr.target.path", "TargetFilename"), ("process.executable.path", "Image")]),
        "exit": FieldMap([("process.executable.path", "Image"), ("process.audit_token.pid", "ProcessId")]),
    ]

    static let keys = (
        eventType: FieldKey("event_type"), time: FieldKey("time"), hostname: FieldKey("host.hostname"), os: FieldKey("host.os"),
        newDirectory: FieldKey("event.create.destination.new_path.dir.path"), newName: FieldKey("event.create.destination.new_path.filename"),
        renameDirectory: FieldKey("event.rename.destination.new_path.dir.path"), renameName: FieldKey("event.rename.destination.new_path.filename"),
        target: FieldKey("TargetFilename")
    )

    let context: ParserContext
    let formatName: String
    private var reader = JSONRecordReader()

    /// `formatName` is `eslogger` or `jamf-protect`.
    public init(context: ParserContext, formatName: String = EndpointSecurityParser.format) {
        self.context = context
        self.formatName = formatName
    }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        var fields: [EventField]
        switch reader.fields(of: record) {
        case .failure(let rejection): return rejection
        case .success(let parsed): fields = parsed
        }
        let keys = Self.keys
        guard let eventType = fields.first(keys.eventType) else {
            return RejectedRecord(line: record.line, reason: "not an Endpoint Security event: no event_type", raw: record.text)
        }
        guard let time = fields.first(keys.time).flatMap(Timestamp.init(parsing:)) else {
            return RejectedRecord(line: record.line, reason: "the Endpoint Security event has no parsable time", raw: record.text)
        }
        let kind = Self.eventTypes[eventType]
        if let name = kind?.name {
            // New files are named by directory plus file name.
            if name == "create", let directory = fields.first(keys.newDirectory), let file = fields.first(keys.newName) {
                fields.append(EventField(keys.target, directory + "/" + file))
            }
            if name == "rename", let directory = fields.first(keys.renameDirectory), let file = fields.first(keys.renameName) {
                fields.append(EventField(keys.target, directory + "/" + file))
            }
            Self.maps[name]?.apply(to: &fields)
        }
        let version = fields.first(keys.os).map(Self.macOSVersion)
        events.append(Event(
            time: time,
            machine: MachineIdentity(hostname: fields.first(keys.hostname) ?? context.defaultHostname, platform: .macos, osVersion: version),
            sourceFormat: formatName, integration: context.integration,
            logSource: LogSource(product: "macos", category: kind?.category), fields: fields, raw: record.text, line: record.line))
        return nil
    }

    /// `Version 14.4.1 (Build 23E224)` → `14.4.1`.
    package static func macOSVersion(_ text: String) -> String {
        var bytesOfText = text
        // In ASCII every byte is a character, so splitting bytes at spaces splits characters.
        // The answer is nil for other text (split as characters below), else the version word
        // or, when there is none, nil inside.
        let asciiAnswer = bytesOfText.withUTF8 { bytes -> String?? in
            guard bytes.isASCII else { return .none }
            var start = 0
            while start < bytes.count, bytes[start] == 0x20 { start += 1 }
            guard bytes.hasPrefix("Version ", at: start) else { return .some(nil) }
            start += "Version ".utf8.count
            while start < bytes.count, bytes[start] == 0x20 { start += 1 }
            guard start < bytes.count else { return .some(nil) }
            return bytes.string(start..<(bytes.firstIndex(of: 0x20, in: start..<bytes.count) ?? bytes.count))
        }
        if let asciiAnswer { return asciiAnswer ?? text }
        let words = text.split(separator: " ")
        if words.count >= 2, words[0] == "Version" { return String(words[1]) }
        return text
    }
}
