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

extension Store {
    /// Stores a new token's hash for `integration`, refusing when the integration is off.
    public func createToken(integration name: String, hash: [UInt8], expiresAt: Timestamp, actor: String) throws -> Int64 {
        try connection.transaction {
            guard let integration = try integration(named: name) else {
                throw StoreError(.notFound, "there is no integration called '\(name)'; see `vigil integration list`")
            }
            guard integration.enabled else {
                throw StoreError(.invalidValue, "the integration '\(name)' is off; turn it on first with `vigil integration on \(name)`")
            }
            try connection.statement("INSERT INTO access_tokens (integration, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)")
                .bind(name, hash, Timestamp.now().microseconds, expiresAt.microseconds).run()
            let id = connection.lastInsertRowID
            try appendAudit(actor: actor, action: "token.create", target: name, details: "token \(id), expires \(expiresAt.iso8601)")
            return id
        }
    }

    /// The tokens of an integration, newest first.
    public func tokens(integration: String) throws -> [TokenRow] {
        try connection.statement("""
            SELECT id, integration, created_at, expires_at, last_used_at, revoked_at, revoked_reason
            FROM access_tokens WHERE integration = ? ORDER BY id DESC
            """).bind(integration).rows { row in
            TokenRow(id: row.int("id"), integration: row.text("integration"), createdAt: row.time("created_at"),
                     expiresAt: row.time("expires_at"), lastUsedAt: row.optionalTime("last_used_at"),
                     revokedAt: row.optionalTime("revoked_at"), revokedReason: row.optionalText("revoked_reason"))
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
    public func storedToken(hash: [UInt8]) throws -> (id: Int64, integration: String, hash: [UInt8], expiresAt: Timestamp, revokedAt: Timestamp?)? {
        try connection.statement("SELECT id, integration, token_hash, expires_at, revoked_at FROM access_tokens WHERE token_hash = ?")
            .bind(hash).firstRow { row in
                (row.int("id"), row.text("integration"), row.blob("token_hash"), row.time("expires_at"), row.optionalTime("revoked_at"))
            }
    }

    /// Records that a token was just used.
    public func markTokenUsed(id: Int64) throws {
        try connection.statement("UPDATE access_tokens SET last_used_at = ? WHERE id = ?").bind(Timestamp.now().microseconds, id).run()
    }

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

/// One entry of the audit log.
public struct AuditRow: Sendable {
    public var id: Int64
    public var time: Timestamp
    public var actor: String
    public var action: String
    public var target: String
    public var details: String
}

extension Store {
    /// Audit log entries, newest first, filtered by action prefix, target and time.
    public func audit(action: String? = nil, target: String? = nil, since: Timestamp? = nil, limit: Int = 100) throws -> [AuditRow] {
        var conditions: [String] = []
        var values: [(any SQLValue)?] = []
        if let action { conditions.append(#"(action = ? OR action LIKE ? || '.%' ESCAPE '\')"#); values += [action, likeLiteral(action)] }
        if let target { conditions.append("target = ?"); values.append(target) }
        if let since { conditions.append("time >= ?"); values.append(since.microseconds) }
        values.append(limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try connection.statement("SELECT id, time, actor, action, target, details FROM audit_log \(whereClause) ORDER BY id DESC LIMIT ?")
            .bind(values).rows(Self.auditRow)
    }
}

extension Store {
    static func auditRow(_ row: Row) -> AuditRow {
        AuditRow(id: row.int("id"), time: row.time("time"), actor: row.text("actor"), action: row.text("action"),
                 target: row.text("target"), details: row.text("details"))
    }
}

/// One supported OS version.
public struct CompatibilityRow: Sendable, Equatable {
    public var platform: String
    public var distribution: String
    public var version: String
    public var note: String

    public init(platform: String, distribution: String, version: String, note: String) {
        self.platform = platform
        self.distribution = distribution
        self.version = version
        self.note = note
    }
}

extension Store {
    /// The compatibility list.
    public func compatibility() throws -> [CompatibilityRow] {
        try connection.statement("SELECT platform, distribution, version, note FROM compatibility ORDER BY platform, distribution, CAST(version AS REAL), version")
            .rows {
                CompatibilityRow(platform: $0.text("platform"), distribution: $0.text("distribution"), version: $0.text("version"), note: $0.text("note"))
            }
    }

    /// Adds a supported OS version.
    public func addCompatibility(_ row: CompatibilityRow, actor: String) throws {
        try connection.transaction {
            try connection.statement("INSERT OR REPLACE INTO compatibility (platform, distribution, version, note) VALUES (?, ?, ?, ?)")
                .bind(row.platform, row.distribution.lowercased(), row.version, row.note).run()
            try appendAudit(actor: actor, action: "compatibility.add", target: row.platform,
                            details: [row.distribution, row.version].filter { !$0.isEmpty }.joined(separator: " "))
        }
    }
}
