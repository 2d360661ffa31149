import VigilModel

/// A token's metadata; the secret is never stored.
public struct TokenRow: Sendable {
    public var id: Int64
    public var integration: String
    public var createdAt: Timestamp
    public var expiresAt: Timestamp
    public var lastUsedAt: Timestamp?
    public var revokedAt: Timestamp?
    public var revokedReason: String?
}
