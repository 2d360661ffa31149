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

    public init(integration: String, defaultHostname: String = "unknown", now: Timestamp = .now()) {
        self.integration = integration
        self.defaultHostname = defaultHostname
        self.now = now
    }
}

extension [EventField] {
    /// The first non-empty value of any of `keys`, in the order given.
    func first(_ keys: [FieldKey]) -> String? {
        for key in keys {
            for field in self where field.key == key && !field.value.isEmpty { return field.value }
        }
        return nil
    }

    func first(_ key: FieldKey) -> String? { first([key]) }
}
