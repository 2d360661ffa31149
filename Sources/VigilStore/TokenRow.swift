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
    /// Host-name patterns its pushes are bound to; empty for any machine.
    public var machines: [String] = []

    /// Every column, as a store reads them.
    package init(id: Int64, integration: String, createdAt: Timestamp, expiresAt: Timestamp, lastUsedAt: Timestamp? = nil, revokedAt: Timestamp? = nil, revokedReason: String? = nil, machines: [String] = []) {
        self.id = id
        self.integration = integration
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
        self.revokedReason = revokedReason
        self.machines = machines
    }
}

extension TokenRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, integration, createdAt = "created", expiresAt = "expires", lastUsedAt = "last_used", revokedAt = "revoked", machines, state
    }

    /// `active`, `expired` or `revoked`, as of now.
    public var state: String { revokedAt != nil ? "revoked" : (expiresAt <= .now() ? "expired" : "active") }

    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(id, forKey: .id)
        try row.encode(integration, forKey: .integration)
        try row.encode(createdAt, forKey: .createdAt)
        try row.encode(expiresAt, forKey: .expiresAt)
        try row.encode(lastUsedAt, forKey: .lastUsedAt)
        try row.encode(revokedAt, forKey: .revokedAt)
        try row.encode(machines, forKey: .machines)
        try row.encode(state, forKey: .state)
    }
}
