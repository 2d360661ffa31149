import VigilModel

extension Store {
    /// Stores a new API key's hash; a key with `expiresAt` is refused from then on.
    public func createAPIKey(name: String, hash: [UInt8], admin: Bool = false, expiresAt: Timestamp? = nil, actor: String) throws -> Int64 {
        try connection.transaction {
            try connection.statement("INSERT INTO api_keys (name, key_hash, created_at, admin, expires_at) VALUES (?, ?, ?, ?, ?)")
                .bind(name, hash, Timestamp.now().microseconds, admin, expiresAt?.microseconds).run()
            let id = connection.lastInsertRowID
            let details = (admin ? "\(name) (admin)" : name) + (expiresAt.map { ", expires \($0.iso8601)" } ?? "")
            try appendAudit(actor: actor, action: "apikey.create", target: "apikey:\(id)", details: details)
            return id
        }
    }

    public func apiKeys() throws -> [APIKeyRow] {
        try connection.statement("SELECT id, name, created_at, expires_at, last_used_at, revoked_at, admin FROM api_keys ORDER BY id").rows {
            APIKeyRow(id: $0.int("id"), name: $0.text("name"), createdAt: $0.time("created_at"), expiresAt: $0.optionalTime("expires_at"),
                      lastUsedAt: $0.optionalTime("last_used_at"), revokedAt: $0.optionalTime("revoked_at"), admin: $0.bool("admin"))
        }
    }

    public func revokeAPIKey(id: Int64, actor: String) throws {
        try connection.transaction {
            try connection.statement("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(Timestamp.now().microseconds, id).run()
            guard connection.changes > 0 else { throw StoreError(.notFound, "there is no active API key \(id); see `vigil apikey list`") }
            try appendAudit(actor: actor, action: "apikey.revoke", target: "apikey:\(id)")
        }
    }

    /// The active key with this hash, recording its use; nil when unknown, revoked or expired.
    ///
    /// The use is written at most once a minute per key, so checking a busy key is a read that
    /// never waits for the writer.
    public func useAPIKey(hash: [UInt8]) throws -> (id: Int64, name: String, hash: [UInt8], admin: Bool)? {
        let now = Timestamp.now()
        guard let key = try connection.statement("""
            SELECT id, name, key_hash, admin, last_used_at FROM api_keys
            WHERE key_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
            """).bind(hash, now.microseconds)
            .firstRow({ (id: $0.int("id"), name: $0.text("name"), hash: $0.blob("key_hash"), admin: $0.bool("admin"), lastUsed: $0.optionalTime("last_used_at")) })
        else { return nil }
        if key.lastUsed.map({ now.microseconds - $0.microseconds >= 60_000_000 }) ?? true {
            try connection.statement("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now.microseconds, key.id).run()
        }
        return (key.id, key.name, key.hash, key.admin)
    }
}
