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
///   (not kept as fields); the product defaults to the OS platform's.
public struct JSONEventParser: EventParser {
    public static let format = "json"

    private static let timeKeys = ["@timestamp", "timestamp", "event.created", "time"].map(FieldKey.init)
    private static let hostnameKeys = ["host.name", "host.hostname", "hostname", "host"].map(FieldKey.init)
    private static let platformKeys = ["host.os.platform", "host.os.type", "host.os.family", "host.os.name", "os.platform", "os_platform"].map(FieldKey.init)
    private static let versionKeys = ["host.os.version", "os.version", "os_version"].map(FieldKey.init)
    private static let productKey = FieldKey("logsource.product")
    private static let categoryKey = FieldKey("logsource.category")
    private static let serviceKey = FieldKey("logsource.service")

    let integration: String
    private var flattener = JSONFlattener()
    private var fields: [EventField] = []

    public init(integration: String) { self.integration = integration }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        fields.removeAll(keepingCapacity: true)
        var text = record.text
        var syntaxError: JSONFlattener.SyntaxError?
        text.withUTF8 { bytes in
            do throws(JSONFlattener.SyntaxError) {
                try flattener.flatten(bytes, into: &fields)
            } catch {
                syntaxError = error
            }
        }
        if let syntaxError {
            return RejectedRecord(line: record.line, reason: "invalid JSON at byte \(syntaxError.offset + 1): \(syntaxError.message)", raw: record.text)
        }
        var logSource = LogSource()
        var product: String?
        var kept: [EventField] = []
        kept.reserveCapacity(fields.count)
        for field in fields {
            switch field.key {
            case Self.productKey: product = field.value
            case Self.categoryKey: logSource.category = field.value.lowercased()
            case Self.serviceKey: logSource.service = field.value.lowercased()
            default: kept.append(field)
            }
        }
        let time = Self.first(Self.timeKeys, in: kept).flatMap(Timestamp.init(parsing:)) ?? Timestamp.now()
        let hostname = Self.first(Self.hostnameKeys, in: kept) ?? "unknown"
        let platform = Self.first(Self.platformKeys, in: kept).map(OSPlatform.init(reported:)) ?? .unknown
        logSource.product = (product ?? platform.sigmaProduct)?.lowercased()
        events.append(Event(
            time: time,
            machine: MachineIdentity(hostname: hostname, platform: platform, osVersion: Self.first(Self.versionKeys, in: kept)),
            sourceFormat: Self.format, integration: integration, logSource: logSource,
            fields: kept, raw: record.text, line: record.line))
        return nil
    }

    private static func first(_ keys: [FieldKey], in fields: [EventField]) -> String? {
        for key in keys {
            for field in fields where field.key == key && !field.value.isEmpty { return field.value }
        }
        return nil
    }
}
