/// One field of an event: an interned name and its text value. A field that holds a list
/// appears once per element, so a rule matches when any element matches.
public struct EventField: Sendable, Equatable {
    public var key: FieldKey
    public var value: String

    public init(_ key: FieldKey, _ value: String) {
        self.key = key
        self.value = value
    }

    /// The value of a field that is present and null (a JSON `null`): one NUL character, which
    /// no text a rule searches for contains. Stored and shown as JSON `null`.
    public static let nullValue = "\u{0}"

    /// True for a present, null field.
    public var isNull: Bool { value == Self.nullValue }
}

/// The machine an event came from, as the event reports it.
public struct MachineIdentity: Sendable, Equatable, Hashable {
    public var hostname: String
    public var platform: OSPlatform
    public var osVersion: String?

    public init(hostname: String, platform: OSPlatform = .unknown, osVersion: String? = nil) {
        self.hostname = hostname
        self.platform = platform
        self.osVersion = osVersion
    }
}

/// The normalized event every parser produces and every later stage consumes.
public struct Event: Sendable {
    /// Event time in UTC.
    public var time: Timestamp
    public var machine: MachineIdentity
    /// The parser that read it (`json`, `auditd`, `clamav`, …).
    public var sourceFormat: String
    /// The integration it came through.
    public var integration: String
    public var logSource: LogSource
    /// The fields rules see, in source order.
    public var fields: [EventField]
    /// The record exactly as it was read (a line, or lines joined by `\n`).
    public var raw: String
    /// 1-based line of the record's first line in its input.
    public var line: Int
    /// True when the record carried no readable time and `time` is when it was ingested
    /// (stored with the field `vigil_ingest_time`, and counted).
    public var timeFromIngest = false

    public init(
        time: Timestamp, machine: MachineIdentity, sourceFormat: String, integration: String,
        logSource: LogSource, fields: [EventField], raw: String, line: Int
    ) {
        self.time = time
        self.machine = machine
        self.sourceFormat = sourceFormat
        self.integration = integration
        self.logSource = logSource
        self.fields = fields
        self.raw = raw
        self.line = line
    }

    /// The first value of the field `key`, if present and not null.
    public func value(of key: FieldKey) -> String? {
        for field in fields where field.key == key { return field.isNull ? nil : field.value }
        return nil
    }
}
