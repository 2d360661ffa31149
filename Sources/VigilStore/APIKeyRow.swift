import VigilModel

/// An API key's metadata; the key itself is never stored.
public struct APIKeyRow: Sendable {
    public var id: Int64
    public var name: String
    public var createdAt: Timestamp
    /// When it stops being accepted; nil for never.
    public var expiresAt: Timestamp?
    public var lastUsedAt: Timestamp?
    public var revokedAt: Timestamp?
    /// Whether it may also turn integrations on and off and issue push tokens.
    public var admin: Bool

    /// Every column, as a store reads them.
    package init(id: Int64, name: String, createdAt: Timestamp, expiresAt: Timestamp? = nil, lastUsedAt: Timestamp? = nil, revokedAt: Timestamp? = nil, admin: Bool) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
        self.admin = admin
    }
}

extension APIKeyRow: Encodable {
    /// `active`, `expired` or `revoked`, as of now.
    public var state: String { revokedAt != nil ? "revoked" : (expiresAt.map { $0 <= .now() } == true ? "expired" : "active") }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, admin, createdAt = "created", expiresAt = "expires", lastUsedAt = "last_used", revokedAt = "revoked", state
    }

    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(id, forKey: .id)
        try row.encode(name, forKey: .name)
        try row.encode(admin, forKey: .admin)
        try row.encode(createdAt, forKey: .createdAt)
        try row.encode(expiresAt, forKey: .expiresAt)
        try row.encode(lastUsedAt, forKey: .lastUsedAt)
        try row.encode(revokedAt, forKey: .revokedAt)
        try row.encode(state, forKey: .state)
    }
}
