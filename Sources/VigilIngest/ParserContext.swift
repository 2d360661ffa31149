import VigilModel

/// What every parser stamps on its events besides what the record says.
public struct ParserContext: Sendable {
    /// The integration the data came through.
    public var integration: String
    /// The machine for records that do not name one (a ClamAV scan log, say).
    public var defaultHostname: String
    /// What parsing takes as the present: the year of a syslog stamp that has none, and the
    /// time of a record that carries no time at all. Fixed per input, so a parse can be replayed.
    public var now: Timestamp
    /// Store a record whose time cannot be read at `now`, flagged, instead of rejecting it.
    public var acceptIngestTime: Bool

    public init(integration: String, defaultHostname: String = "unknown", now: Timestamp = .now(), acceptIngestTime: Bool = false) {
        self.integration = integration
        self.defaultHostname = defaultHostname
        self.now = now
        self.acceptIngestTime = acceptIngestTime
    }

    /// The time of a record whose time is `text` (nil: it has none): the parsed time; `now`,
    /// flagged, when it has none; and when it cannot be read, `now`, flagged, if
    /// `acceptIngestTime`, else the reason to reject the record.
    func time(_ text: String?, parse: (String) -> Timestamp?) -> Result<(time: Timestamp, fromIngest: Bool), TimeRefusal> {
        guard let text else { return .success((now, true)) }
        if let time = parse(text) { return .success((time, false)) }
        return unreadableTime("'\(text.prefix(64))'")
    }

    /// A record whose time, `described`, cannot be read: `now`, flagged, if `acceptIngestTime`,
    /// else the reason to reject it.
    func unreadableTime(_ described: String) -> Result<(time: Timestamp, fromIngest: Bool), TimeRefusal> {
        if acceptIngestTime { return .success((now, true)) }
        return .failure(TimeRefusal(reason: "unreadable time \(described); fix the record, or import it with --accept-ingest-time "
            + "(push: ?accept_ingest_time=true) to store it at ingest time, flagged"))
    }
}

/// Why a record's time could not be read.
struct TimeRefusal: Error {
    var reason: String
}

extension Event {
    /// The field that marks an event stored at ingest time, for want of a readable time of its own.
    public static let ingestTimeKey = FieldKey("vigil_ingest_time")

    /// Marks the event as timed by its ingest, not by its record.
    mutating func markTimeFromIngest() {
        timeFromIngest = true
        fields.append(EventField(Self.ingestTimeKey, "true"))
    }
}

extension [EventField] {
    /// The first non-empty value of any of `keys`, in the order given.
    func first(_ keys: [FieldKey]) -> String? {
        for key in keys {
            for field in self where field.key == key && !field.value.isEmpty && !field.isNull { return field.value }
        }
        return nil
    }

    func first(_ key: FieldKey) -> String? { first([key]) }
}
