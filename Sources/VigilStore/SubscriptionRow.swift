import VigilModel

/// How a subscription reaches its receiver.
public enum DeliveryTransport: String, Sendable, CaseIterable, Codable {
    /// An HTTPS (or HTTP) POST per change, signed.
    case webhook
    /// Syslog over TCP with octet-counting framing (RFC 6587), optionally TLS.
    case syslog

    /// The formats this transport carries, the default first.
    public var formats: [DeliveryFormat] {
        switch self {
        case .webhook: [.json, .slack, .teams]
        case .syslog: [.cef, .rfc5424, .json]
        }
    }
}

/// The shape of a delivered message.
public enum DeliveryFormat: String, Sendable, CaseIterable, Codable {
    /// The change with the alert as the API shows it (over syslog: in an RFC 5424 message).
    case json
    /// A Slack incoming-webhook message.
    case slack
    /// A Microsoft Teams incoming-webhook message card.
    case teams
    /// ArcSight Common Event Format, in an RFC 5424 message.
    case cef
    /// An RFC 5424 message with structured data.
    case rfc5424
}

/// A subscription as stored: where changes go and which ones (its `spec`, whose fields read
/// as its own: `row.target`), and how far delivery got.
@dynamicMemberLookup
public struct SubscriptionRow: Sendable {
    public var id: Int64
    public var spec: SubscriptionSpec
    /// The webhook's signing key.
    public var secret: String
    public var enabled: Bool
    /// The last outbox id handled.
    public var cursor: Int64
    /// Tries so far of the entry after `cursor`.
    public var attempts: Int
    public var nextAttemptAt: Timestamp
    public var lastError: String?
    public var lastErrorAt: Timestamp?
    public var delivered: Int64
    public var lastDeliveredAt: Timestamp?
    /// Outbox entries after `cursor` (wanted or not).
    public var backlog: Int64
    public var deadLetters: Int64
    public var createdAt: Timestamp
    public var createdBy: String

    public subscript<Value>(dynamicMember field: KeyPath<SubscriptionSpec, Value>) -> Value { spec[keyPath: field] }
}

extension SubscriptionRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, transport, target, tls, caFile = "ca_file", format, minimumSeverity = "min_severity", platforms = "os", rules
        case kinds = "on", enabled, cursor, attempts, nextAttemptAt = "next_attempt_at", lastError = "last_error"
        case lastErrorAt = "last_error_at", delivered, lastDeliveredAt = "last_delivered_at", backlog
        case deadLetters = "dead_letters", createdAt = "created_at", createdBy = "created_by"
    }

    /// Everything but the secret.
    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(id, forKey: .id)
        try row.encode(spec.name, forKey: .name)
        try row.encode(spec.transport.rawValue, forKey: .transport)
        try row.encode(spec.target, forKey: .target)
        try row.encode(spec.tls, forKey: .tls)
        try row.encode(spec.caFile, forKey: .caFile)
        try row.encode(spec.format.rawValue, forKey: .format)
        try row.encode(spec.minimumSeverity.name, forKey: .minimumSeverity)
        try row.encode(spec.platforms, forKey: .platforms)
        try row.encode(spec.rules, forKey: .rules)
        try row.encode(spec.kinds.map(\.rawValue), forKey: .kinds)
        try row.encode(enabled, forKey: .enabled)
        try row.encode(cursor, forKey: .cursor)
        try row.encode(attempts, forKey: .attempts)
        try row.encode(attempts > 0 ? nextAttemptAt : nil, forKey: .nextAttemptAt)
        try row.encode(lastError, forKey: .lastError)
        try row.encode(lastErrorAt, forKey: .lastErrorAt)
        try row.encode(delivered, forKey: .delivered)
        try row.encode(lastDeliveredAt, forKey: .lastDeliveredAt)
        try row.encode(backlog, forKey: .backlog)
        try row.encode(deadLetters, forKey: .deadLetters)
        try row.encode(createdAt, forKey: .createdAt)
        try row.encode(createdBy, forKey: .createdBy)
    }
}

/// A new subscription, as `vigil notify add` or the API describe it.
public struct SubscriptionSpec: Sendable, Equatable {
    public var name: String
    public var transport: DeliveryTransport
    public var target: String
    public var tls: Bool
    public var caFile: String?
    public var format: DeliveryFormat
    public var minimumSeverity: Severity
    public var platforms: [String]
    public var rules: [String]
    public var kinds: [OutboxKind]

    public init(name: String, transport: DeliveryTransport, target: String, tls: Bool = false, caFile: String? = nil,
                format: DeliveryFormat? = nil, minimumSeverity: Severity = .informational, platforms: [String] = [],
                rules: [String] = [], kinds: [OutboxKind] = [.alertCreated]) {
        self.name = name
        self.transport = transport
        self.target = target
        self.tls = tls
        self.caFile = caFile
        self.format = format ?? transport.formats[0]
        self.minimumSeverity = minimumSeverity
        self.platforms = platforms
        self.rules = rules
        self.kinds = kinds
    }
}

/// A change a webhook subscription gave up on after its last retry.
public struct DeadLetterRow: Sendable, Encodable {
    public var outboxID: Int64
    public var attempts: Int
    public var error: String
    public var failedAt: Timestamp

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case outboxID = "outbox_id", attempts, error, failedAt = "failed_at"
    }
}
