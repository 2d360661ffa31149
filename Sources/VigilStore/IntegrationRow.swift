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
}
