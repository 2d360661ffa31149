import VigilModel

extension Store {
    /// Stores a new token's hash for `integration`, refusing when the integration is off.
    /// `machines`: host-name patterns the token's pushes are bound to; empty binds none.
    public func createToken(integration name: String, hash: [UInt8], expiresAt: Timestamp, machines: [String] = [], actor: String) throws -> Int64 {
        try connection.transaction {
            guard let integration = try integration(named: name) else {
                throw StoreError(.notFound, "there is no integration called '\(name)'; see `vigil integration list`")
            }
            guard integration.enabled else {
                throw StoreError(.invalidValue, "the integration '\(name)' is off; turn it on first with `vigil integration on \(name)`")
            }
            try connection.statement("INSERT INTO access_tokens (integration, token_hash, created_at, expires_at, machines) VALUES (?, ?, ?, ?, ?)")
                .bind(name, hash, Timestamp.now().microseconds, expiresAt.microseconds, machines.joined(separator: ",")).run()
            let id = connection.lastInsertRowID
            let bound = machines.isEmpty ? "" : ", machines \(machines.joined(separator: ","))"
            try appendAudit(actor: actor, action: "token.create", target: name, details: "token \(id), expires \(expiresAt.iso8601)\(bound)")
            return id
        }
    }

    /// The tokens of an integration, newest first.
    public func tokens(integration: String) throws -> [TokenRow] {
        try connection.statement("""
            SELECT id, integration, created_at, expires_at, last_used_at, revoked_at, revoked_reason, machines
            FROM access_tokens WHERE integration = ? ORDER BY id DESC
            """).bind(integration).rows { row in
            TokenRow(id: row.int("id"), integration: row.text("integration"), createdAt: row.time("created_at"),
                     expiresAt: row.time("expires_at"), lastUsedAt: row.optionalTime("last_used_at"),
                     revokedAt: row.optionalTime("revoked_at"), revokedReason: row.optionalText("revoked_reason"),
                     machines: row.text("machines").split(separator: ",").map(String.init))
        }
    }

    /// Revokes one token of `integration`.
    public func revokeToken(integration: String, id: Int64, actor: String) throws {
        try connection.transaction {
            try connection.statement("UPDATE access_tokens SET revoked_at = ?, revoked_reason = 'revoked by ' || ? WHERE id = ? AND integration = ? AND revoked_at IS NULL")
                .bind(Timestamp.now().microseconds, actor, id, integration).run()
            guard connection.changes > 0 else {
                throw StoreError(.notFound, "integration '\(integration)' has no active token \(id); see `vigil integration tokens \(integration)`")
            }
            try appendAudit(actor: actor, action: "token.revoke", target: integration, details: "token \(id)")
        }
    }

    /// The stored token whose hash is `hash`, for the gate.
    public func storedToken(hash: [UInt8]) throws
        -> (id: Int64, integration: String, hash: [UInt8], expiresAt: Timestamp, revokedAt: Timestamp?, machines: [String])? {
        try connection.statement("SELECT id, integration, token_hash, expires_at, revoked_at, machines FROM access_tokens WHERE token_hash = ?")
            .bind(hash).firstRow { row in
                (row.int("id"), row.text("integration"), row.blob("token_hash"), row.time("expires_at"), row.optionalTime("revoked_at"),
                 row.text("machines").split(separator: ",").map(String.init))
            }
    }

    /// Records that a token was just used.
    /// Adds a custom integration, off.
    public func addIntegration(_ definition: IntegrationDefinition, actor: String) throws {
        try connection.transaction {
            guard try integration(named: definition.name) == nil else {
                throw StoreError(.invalidValue, "an integration called '\(definition.name)' already exists")
            }
            try connection.statement("INSERT INTO integrations (name, display_name, platforms, formats, builtin) VALUES (?, ?, ?, ?, 0)")
                .bind(definition.name, definition.displayName, definition.platforms.joined(separator: ","),
                      definition.formats.joined(separator: ",")).run()
            try appendAudit(actor: actor, action: "integration.add", target: definition.name,
                            details: "platforms \(definition.platforms.joined(separator: ",")); formats \(definition.formats.joined(separator: ","))")
        }
    }
}
