import Foundation
import VigilModel

/// osquery result logs, differential (`columns` + `action`) and snapshot (`snapshot` rows),
/// with decorations. `hostIdentifier` names the machine. Results of `process_events`,
/// `socket_events` and `file_events` queries map to process_creation, network_connection and
/// file_event; other queries stay generic osquery events (service `osquery`).
/// Columns are kept both as `columns.<name>` and as `<name>`.
public struct OsqueryParser: EventParser {
    public static let format = "osquery"
    public static let isStateless = true

    /// Query-name fragment → (Sigma category, column mapping). The fragments are found by bytes:
    /// Foundation's `String.contains` bridged each query name to NSString, 9% of a worker's
    /// samples on an osquery import.
    public static let queries: [(fragment: StaticString, category: String, map: FieldMap)] = [
        ("process_events", "process_creation", FieldMap([("path", "Image"), ("cmdline", "CommandLine"), ("cwd", "CurrentDirectory"),
                                                         ("pid", "ProcessId"), ("parent", "ParentProcessId"), ("uid", "User")])),
        ("socket_events", "network_connection", FieldMap([("path", "Image"), ("remote_address", "DestinationIp"),
                                                          ("remote_port", "DestinationPort"), ("local_address", "SourceIp"),
                                                          ("local_port", "SourcePort"), ("pid", "ProcessId")])),
        ("file_events", "file_event", FieldMap([("target_path", "TargetFilename")])),
    ]

    static let keys = (name: FieldKey("name"), host: FieldKey("hostIdentifier"), unixTime: FieldKey("unixTime"),
                       calendarTime: FieldKey("calendarTime"), platform: FieldKey("decorations.platform"),
                       osName: FieldKey("decorations.os_name"), osVersion: FieldKey("decorations.os_version"))

    let context: ParserContext
    private var reader = JSONRecordReader()
    private var keyCache = FieldKeyCache()
    private var names = FieldNameCache()
    /// What each field key stands for here, indexed by the key's raw value: for a
    /// `columns.<name>` key, the key of `<name>`. Learned once per key, not once per field.
    private var shortColumnKeys: [ShortColumnKey] = []

    private enum ShortColumnKey {
        case unlearned
        case notAColumn
        case short(FieldKey)
    }

    public init(context: ParserContext) { self.context = context }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        var fields: [EventField]
        switch reader.fields(of: record) {
        case .failure(let rejection): return rejection
        case .success(let parsed): fields = parsed
        }
        let keys = Self.keys
        guard let name = fields.first(keys.name), let host = fields.first(keys.host) else {
            return RejectedRecord(line: record.line, reason: "not an osquery result: no name or hostIdentifier", raw: record.text)
        }
        guard let time = fields.first(keys.unixTime).flatMap(Timestamp.init(parsing:)) else {
            return RejectedRecord(line: record.line, reason: "the osquery result has no parsable unixTime", raw: record.text)
        }
        let platform = fields.first([keys.platform, keys.osName]).map(OSPlatform.init(reported:)) ?? .unknown
        let machine = MachineIdentity(hostname: host, platform: platform, osVersion: fields.first(keys.osVersion))
        let query = Self.queries.first { name.hasBytes($0.fragment) }
        // Snapshot results carry many rows; each becomes an event with the record's other keys.
        var rows: [[EventField]]
        if record.text.hasBytes("\"snapshot\"") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(record.text.utf8)) as? [String: Any],
                let snapshot = object["snapshot"] as? [[String: Any]]
            else {
                return RejectedRecord(line: record.line, reason: "the osquery snapshot is not a list of rows", raw: record.text)
            }
            let shared = fields.filter { !names.name(of: $0.key).hasPrefix("snapshot.") }
            rows = snapshot.map { row in
                shared + row.keys.sorted().map { EventField(keyCache.key(for: "columns.\($0)"), "\(row[$0]!)") }
            }
        } else {
            rows = [consume fields]
        }
        for index in rows.indices {
            var row = rows[index]
            rows[index] = []  // so that appending to `row` does not copy it
            for fieldIndex in row.indices {
                if let short = shortColumnKey(of: row[fieldIndex].key) { row.append(EventField(short, row[fieldIndex].value)) }
            }
            query?.map.apply(to: &row)
            events.append(Event(
                time: time, machine: machine, sourceFormat: Self.format, integration: context.integration,
                logSource: LogSource(product: platform.sigmaProduct, category: query?.category, service: query == nil ? "osquery" : nil),
                fields: row, raw: record.text, line: record.line))
        }
        return nil
    }

    /// The key of `<name>` when `key` is `columns.<name>`, else nil.
    private mutating func shortColumnKey(of key: FieldKey) -> FieldKey? {
        let index = Int(key.rawValue)
        if index >= shortColumnKeys.count { shortColumnKeys += repeatElement(.unlearned, count: index - shortColumnKeys.count + 1) }
        switch shortColumnKeys[index] {
        case .short(let short): return short
        case .notAColumn: return nil
        case .unlearned:
            let name = names.name(of: key)
            let short = name.hasPrefix("columns.") ? keyCache.key(for: String(name.dropFirst(8))) : nil
            shortColumnKeys[index] = short.map(ShortColumnKey.short) ?? .notAColumn
            return short
        }
    }
}
