import VigilModel

/// One integration with its state.
public struct IntegrationRow: Sendable {
    public var name: String
    public var displayName: String
    public var platforms: [String]
    public var formats: [String]
    public var enabled: Bool
    public var enabledChangedAt: Timestamp?
    public var activeTokens: Int
    public var lastDataAt: Timestamp?
    public var eventsReceived: Int64
    public var eventsRefused: Int64

    /// Every column, as a store reads them.
    package init(name: String, displayName: String, platforms: [String], formats: [String], enabled: Bool, enabledChangedAt: Timestamp? = nil, activeTokens: Int, lastDataAt: Timestamp? = nil, eventsReceived: Int64, eventsRefused: Int64) {
        self.name = name
        self.displayName = displayName
        self.platforms = platforms
        self.formats = formats
        self.enabled = enabled
        self.enabledChangedAt = enabledChangedAt
        self.activeTokens = activeTokens
        self.lastDataAt = lastDataAt
        self.eventsReceived = eventsReceived
        self.eventsRefused = eventsRefused
    }
}

extension IntegrationRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, displayName = "display_name", platforms, formats, enabled, enabledChangedAt = "since"
        case activeTokens = "active_tokens", lastDataAt = "last_data_at", eventsReceived = "events_received", eventsRefused = "events_refused"
    }

    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(name, forKey: .name)
        try row.encode(displayName, forKey: .displayName)
        try row.encode(platforms, forKey: .platforms)
        try row.encode(formats, forKey: .formats)
        try row.encode(enabled, forKey: .enabled)
        try row.encode(enabledChangedAt, forKey: .enabledChangedAt)
        try row.encode(activeTokens, forKey: .activeTokens)
        try row.encode(lastDataAt, forKey: .lastDataAt)
        try row.encode(eventsReceived, forKey: .eventsReceived)
        try row.encode(eventsRefused, forKey: .eventsRefused)
    }
}
