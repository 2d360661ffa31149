import VigilModel

/// An API key's metadata; the key itself is never stored.
public struct APIKeyRow: Sendable {
    public var id: Int64
    public var name: String
    public var createdAt: Timestamp
    public var lastUsedAt: Timestamp?
    public var revokedAt: Timestamp?
    /// Whether it may also turn integrations on and off and issue push tokens.
    public var admin: Bool
}
