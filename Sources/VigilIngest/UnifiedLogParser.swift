import VigilModel

/// The macOS unified log as NDJSON (`log show --style ndjson`): product macos events, every
/// key kept; `processImagePath` also becomes `Image` and `eventMessage` `message`.
public struct UnifiedLogParser: EventParser {
    public static let format = "unified-log"
    public static let isStateless = true
    public static let map = FieldMap([("processImagePath", "Image"), ("eventMessage", "message"), ("senderImagePath", "SenderImage")])
    static let timeKey = FieldKey("timestamp"), messageKey = FieldKey("eventMessage")

    let context: ParserContext
    private var reader = JSONRecordReader()

    public init(context: ParserContext) { self.context = context }

    public mutating func parse(_ record: RawRecord, into events: inout [Event]) -> RejectedRecord? {
        var fields: [EventField]
        switch reader.fields(of: record) {
        case .failure(let rejection): return rejection
        case .success(let parsed): fields = parsed
        }
        guard let time = fields.first(Self.timeKey).flatMap(Timestamp.init(parsing:)) else {
            return RejectedRecord(line: record.line, reason: "not a unified log entry: no parsable timestamp", raw: record.text)
        }
        guard fields.contains(where: { $0.key == Self.messageKey }) else {
            return RejectedRecord(line: record.line, reason: "not a unified log entry: no eventMessage", raw: record.text)
        }
        Self.map.apply(to: &fields)
        events.append(Event(
            time: time, machine: MachineIdentity(hostname: context.defaultHostname, platform: .macos),
            sourceFormat: Self.format, integration: context.integration, logSource: LogSource(product: "macos"),
            fields: fields, raw: record.text, line: record.line))
        return nil
    }
}
