import VigilModel

/// One event of a machine's timeline and the alerts it is evidence of.
public struct TimelineEntry: Sendable, Encodable {
    public var event: EventRow
    public var alerts: [Alert]

    /// An alert an event is evidence of, as the timeline names it.
    public struct Alert: Sendable, Encodable {
        public var id: Int64
        public var title: String
        public var severity: Severity
        public var status: String

        enum CodingKeys: String, CodingKey { case id, title, severity, status }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(title, forKey: .title)
            try container.encode(severity.name, forKey: .severity)
            try container.encode(status, forKey: .status)
        }
    }

    enum CodingKeys: String, CodingKey { case event, alerts }
}
