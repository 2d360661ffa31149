import VigilModel

/// Generic JSON events (NDJSON or array elements), ECS-shaped or flat.
///
/// Every key becomes a field, nested objects by dotted path. These keys also fill the
/// event's envelope (the first one present wins):
/// - time: `@timestamp`, `timestamp`, `event.created`, `time`
/// - hostname: `host.name`, `host.hostname`, `hostname`, `host`
/// - OS platform: `host.os.platform`, `host.os.type`, `host.os.family`, `host.os.name`, `os.platform`, `os_platform`
/// - OS version: `host.os.version`, `os.version`, `os_version`
/// - Sigma logsource: `logsource.product`, `logsource.category`, `logsource.service`
///   (not kept as fields); the product defaults to the OS platform's. Without an explicit
///   category, ECS `event.category` (process, file, network, malware) and OCSF `class_uid`
///   (1007, 1001, 4001, 2004) set it.
///
/// ECS and OCSF documents also get the Sigma names (`Image`, `CommandLine`, …) through
/// `ecsMap` and `ocsfMap`.
public struct JSONEventParser: EventParser {
    public static let format = "json"
    public static let isStateless = true

    private static let timeKeys = ["@timestamp", "timestamp", "event.created", "time"].map(FieldKey.init)
    private static let hostnameKeys = ["host.name", "host.hostname", "hostname", "host", "device.hostname", "device.name"].map(FieldKey.init)
    private static let platformKeys = ["host.os.platform", "host.os.type", "host.os.family", "host.os.name", "os.platform", "os_platform", "device.os.name", "device.os.type"].map(FieldKey.init)
    private static let versionKeys = ["host.os.version", "os.version", "os_version", "device.os.version"].map(FieldKey.init)
    private static let ecsCategoryKey = FieldKey("event.category")
    private static let ocsfClassKey = FieldKey("class_uid")

    /// Elastic Common Schema names → Sigma names.
    public static let ecsMap = FieldMap([
        ("process.executable", "Image"), ("process.command_line", "CommandLine"), ("process.args", "CommandLine"),
        ("process.parent.executable", "ParentImage"), ("process.parent.command_line", "ParentCommandLine"),
        ("process.working_directory", "CurrentDirectory"), ("user.name", "User"), ("process.pid", "ProcessId"),
        ("process.parent.pid", "ParentProcessId"), ("file.path", "TargetFilename"), ("destination.ip", "DestinationIp"),
        ("destination.port", "DestinationPort"), ("source.ip", "SourceIp"), ("source.port", "SourcePort"),
        ("threat.indicator.name", "Signature"), ("rule.name", "Signature"), ("event.action", "Action"), ("file.path", "Filename"),
    ])

    /// Open Cybersecurity Schema Framework names → Sigma names.
    public static let ocsfMap = FieldMap([
        ("process.file.path", "Image"), ("process.cmd_line", "CommandLine"), ("actor.process.file.path", "ParentImage"),
        ("actor.process.cmd_line", "ParentCommandLine"), ("process.pid", "ProcessId"), ("actor.process.pid", "ParentProcessId"),
        ("actor.user.name", "User"), ("file.path", "TargetFilename"), ("dst_endpoint.ip", "DestinationIp"),
        ("dst_endpoint.port", "DestinationPort"), ("src_endpoint.ip", "SourceIp"), ("src_endpoint.port", "SourcePort"),
        ("malware.name", "Signature"), ("finding_info.title", "Signature"), ("activity_name", "Action"), ("file.path", "Filename"),
    ])
    private static let productKey = FieldKey("logsource.product")
    private static let categoryKey = FieldKey("logsource.category")
    private static let serviceKey = FieldKey("logsource.service")

    let context: ParserContext
    private var reader = JSONRecordReader()

    public init(context: ParserContext) { self.context = context }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        var fields: [EventField]
        switch reader.fields(of: record) {
        case .failure(let rejection): return rejection
        case .success(let parsed): fields = parsed
        }
        var logSource = LogSource()
        var product: String?
        var namesLogSource = false
        for field in fields {
            switch field.key {
            case Self.productKey: product = field.value
            case Self.categoryKey: logSource.category = LogSource.normalized(field.value)
            case Self.serviceKey: logSource.service = LogSource.normalized(field.value)
            default: continue
            }
            namesLogSource = true
        }
        // In place, keeping the other fields' order: no second array per record.
        if namesLogSource { fields.removeAll { $0.key == Self.productKey || $0.key == Self.categoryKey || $0.key == Self.serviceKey } }
        if let ocsfClass = fields.first(Self.ocsfClassKey) {
            Self.ocsfMap.apply(to: &fields)
            if logSource.category == nil {
                logSource.category = ["1007": "process_creation", "1001": "file_event", "4001": "network_connection", "2004": "antivirus"][ocsfClass]
            }
        } else {
            Self.ecsMap.apply(to: &fields)
            if logSource.category == nil {
                let categories = fields.filter { $0.key == Self.ecsCategoryKey }.map(\.value)
                if categories.contains("process") { logSource.category = "process_creation" }
                else if categories.contains("malware") { logSource.category = "antivirus" }
                else if categories.contains("file") { logSource.category = "file_event" }
                else if categories.contains("network") { logSource.category = "network_connection" }
            }
        }
        let time: (time: Timestamp, fromIngest: Bool)
        switch context.time(fields.first(Self.timeKeys), parse: Timestamp.init(parsing:)) {
        case .success(let read): time = read
        case .failure(let refusal): return RejectedRecord(line: record.line, reason: refusal.reason, raw: record.text)
        }
        let hostname = fields.first(Self.hostnameKeys) ?? context.defaultHostname
        let platform = fields.first(Self.platformKeys).map(OSPlatform.init(reported:)) ?? .unknown
        logSource.product = (product ?? platform.sigmaProduct).map(LogSource.normalized)
        var event = Event(
            time: time.time,
            machine: MachineIdentity(hostname: hostname, platform: platform, osVersion: fields.first(Self.versionKeys)),
            sourceFormat: Self.format, integration: context.integration, logSource: logSource,
            fields: fields, raw: record.text, line: record.line)
        if time.fromIngest { event.markTimeFromIngest() }
        events.append(event)
        return nil
    }
}
