import NIOCore
import PostgresNIO
import VigilModel
import VigilStore

extension PostgresStore: IntegrationsAndTokens {
    public func integrations() throws -> [IntegrationRow] { try integrationRows(where: "", []) }

    public func integration(named name: String) throws -> IntegrationRow? {
        try integrationRows(where: "WHERE i.name = $2", [name]).first
    }

    private func integrationRows(where clause: String, _ values: [(any PostgresDynamicTypeEncodable)?]) throws -> [IntegrationRow] {
        try session.query("""
            SELECT i.name, i.display_name, i.platforms, i.formats, i.enabled::int8 AS enabled, i.enabled_changed_at,
                (SELECT COUNT(*) FROM access_tokens t WHERE t.integration = i.name AND t.revoked_at IS NULL AND t.expires_at > $1) AS active_tokens,
                i.last_data_at, i.events_received, i.events_refused
            FROM integrations i \(clause) ORDER BY i.name
            """, [Timestamp.now().microseconds] + values).map { row in
            IntegrationRow(
                name: try row.text("name"), displayName: try row.text("display_name"),
                platforms: try row.text("platforms").split(separator: ",").map(String.init),
                formats: try row.text("formats").split(separator: ",").map(String.init),
                enabled: try row.int("enabled") != 0, enabledChangedAt: try row.optionalTime("enabled_changed_at"),
                activeTokens: Int(try row.int("active_tokens")), lastDataAt: try row.optionalTime("last_data_at"),
                eventsReceived: try row.int("events_received"), eventsRefused: try row.int("events_refused"))
        }
    }

    public func setIntegration(_ name: String, enabled: Bool, actor: String) throws {
        try session.transaction {
            let now = Timestamp.now().microseconds
            // Waits for the pushes in flight through this integration (they key-share-lock its row), and holds back new ones.
            guard try !session.query("SELECT 1 FROM integrations WHERE name = $1 FOR UPDATE", [name]).isEmpty else {
                throw StoreError(.notFound, "there is no integration called '\(name)'; see `vigil integration list`")
            }
            let changed = try session.execute("UPDATE integrations SET enabled = $1, enabled_changed_at = $2 WHERE name = $3",
                                              [enabled ? 1 : 0, now, name])
            guard changed > 0 else {
                throw StoreError(.notFound, "there is no integration called '\(name)'; see `vigil integration list`")
            }
            if !enabled {
                try session.execute("""
                    UPDATE access_tokens SET revoked_at = $1, revoked_reason = 'integration turned off' WHERE integration = $2 AND revoked_at IS NULL
                    """, [now, name])
            }
            try appendAudit(actor: actor, action: enabled ? "integration.on" : "integration.off", target: name, details: "")
        }
    }

    public func addIntegration(_ definition: IntegrationDefinition, actor: String) throws {
        try session.transaction {
            let added = try session.execute("""
                INSERT INTO integrations (name, display_name, platforms, formats, builtin) VALUES ($1, $2, $3, $4, 0) ON CONFLICT (name) DO NOTHING
                """, [definition.name, definition.displayName, definition.platforms.joined(separator: ","), definition.formats.joined(separator: ",")])
            guard added > 0 else { throw StoreError(.invalidValue, "an integration called '\(definition.name)' already exists") }
            try appendAudit(actor: actor, action: "integration.add", target: definition.name,
                            details: "platforms \(definition.platforms.joined(separator: ",")); formats \(definition.formats.joined(separator: ","))")
        }
    }

    public func recordRefusedIngest(integration: String, actor: String, reason: String) throws {
        try session.transaction {
            try session.execute("UPDATE integrations SET events_refused = events_refused + 1 WHERE name = $1", [integration])
            try appendAudit(actor: actor, action: "ingest.refused", target: integration, details: reason)
        }
    }

    public func createToken(integration name: String, hash: [UInt8], expiresAt: Timestamp, machines: [String], actor: String) throws -> Int64 {
        try session.transaction {
            // Locks the integration's row, so that turning it off waits for this token and then revokes it.
            guard let enabled = try session.query("SELECT enabled::int8 AS enabled FROM integrations WHERE name = $1 FOR UPDATE", [name]).first else {
                throw StoreError(.notFound, "there is no integration called '\(name)'; see `vigil integration list`")
            }
            guard try enabled.int("enabled") != 0 else {
                throw StoreError(.invalidValue, "the integration '\(name)' is off; turn it on first with `vigil integration on \(name)`")
            }
            guard let id = try session.query("""
                INSERT INTO access_tokens (integration, token_hash, created_at, expires_at, machines) VALUES ($1, $2, $3, $4, $5) RETURNING id
                """, [name, ByteBuffer(bytes: hash), Timestamp.now().microseconds, expiresAt.microseconds, machines.joined(separator: ",")]).first
            else { throw StoreError(.notFound, "the token insert returned no id") }
            let tokenID = try id.int("id")
            let bound = machines.isEmpty ? "" : ", machines \(machines.joined(separator: ","))"
            try appendAudit(actor: actor, action: "token.create", target: name, details: "token \(tokenID), expires \(expiresAt.iso8601)\(bound)")
            return tokenID
        }
    }

    public func tokens(integration: String) throws -> [TokenRow] {
        try session.query("""
            SELECT id, integration, created_at, expires_at, last_used_at, revoked_at, revoked_reason, machines
            FROM access_tokens WHERE integration = $1 ORDER BY id DESC
            """, [integration]).map { row in
            TokenRow(id: try row.int("id"), integration: try row.text("integration"), createdAt: try row.time("created_at"),
                     expiresAt: try row.time("expires_at"), lastUsedAt: try row.optionalTime("last_used_at"),
                     revokedAt: try row.optionalTime("revoked_at"), revokedReason: try row.optionalText("revoked_reason"),
                     machines: try row.text("machines").split(separator: ",").map(String.init))
        }
    }

    public func revokeToken(integration: String, id: Int64, actor: String) throws {
        try session.transaction {
            // Waits for the pushes in flight with this token (they key-share-lock its row), and holds back new ones.
            try session.execute("SELECT 1 FROM access_tokens WHERE id = $1 FOR UPDATE", [id])
            let revoked = try session.execute("""
                UPDATE access_tokens SET revoked_at = $1, revoked_reason = 'revoked by ' || $2 WHERE id = $3 AND integration = $4 AND revoked_at IS NULL
                """, [Timestamp.now().microseconds, storable(actor), id, integration])
            guard revoked > 0 else {
                throw StoreError(.notFound, "integration '\(integration)' has no active token \(id); see `vigil integration tokens \(integration)`")
            }
            try appendAudit(actor: actor, action: "token.revoke", target: integration, details: "token \(id)")
        }
    }

    public func storedToken(hash: [UInt8]) throws
        -> (id: Int64, integration: String, hash: [UInt8], expiresAt: Timestamp, revokedAt: Timestamp?, machines: [String])? {
        guard let row = try session.query("""
            SELECT id, integration, token_hash, expires_at, revoked_at, machines FROM access_tokens WHERE token_hash = $1
            """, [ByteBuffer(bytes: hash)]).first else { return nil }
        return (try row.int("id"), try row.text("integration"), try row.bytes("token_hash"), try row.time("expires_at"),
                try row.optionalTime("revoked_at"), try row.text("machines").split(separator: ",").map(String.init))
    }

    public func createAPIKey(name: String, hash: [UInt8], admin: Bool, expiresAt: Timestamp?, actor: String) throws -> Int64 {
        try session.transaction {
            guard let row = try session.query("""
                INSERT INTO api_keys (name, key_hash, created_at, admin, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id
                """, [storable(name), ByteBuffer(bytes: hash), Timestamp.now().microseconds, admin ? 1 : 0, expiresAt?.microseconds]).first
            else { throw StoreError(.notFound, "the API key insert returned no id") }
            let id = try row.int("id")
            let details = (admin ? "\(name) (admin)" : name) + (expiresAt.map { ", expires \($0.iso8601)" } ?? "")
            try appendAudit(actor: actor, action: "apikey.create", target: "apikey:\(id)", details: details)
            return id
        }
    }

    public func apiKeys() throws -> [APIKeyRow] {
        try session.query("SELECT id, name, created_at, expires_at, last_used_at, revoked_at, admin::int8 AS admin FROM api_keys ORDER BY id").map {
            APIKeyRow(id: try $0.int("id"), name: try $0.text("name"), createdAt: try $0.time("created_at"),
                      expiresAt: try $0.optionalTime("expires_at"), lastUsedAt: try $0.optionalTime("last_used_at"),
                      revokedAt: try $0.optionalTime("revoked_at"), admin: try $0.int("admin") != 0)
        }
    }

    public func revokeAPIKey(id: Int64, actor: String) throws {
        try session.transaction {
            let revoked = try session.execute("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", [Timestamp.now().microseconds, id])
            guard revoked > 0 else { throw StoreError(.notFound, "there is no active API key \(id); see `vigil apikey list`") }
            try appendAudit(actor: actor, action: "apikey.revoke", target: "apikey:\(id)", details: "")
        }
    }

    public func useAPIKey(hash: [UInt8]) throws -> (id: Int64, name: String, hash: [UInt8], admin: Bool)? {
        let now = Timestamp.now().microseconds
        // The use is written at most once a minute per key.
        guard let row = try session.query("""
            SELECT id, name, key_hash, admin::int8 AS admin, last_used_at FROM api_keys
            WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
            """, [ByteBuffer(bytes: hash), now]).first else { return nil }
        let id = try row.int("id")
        if try row.optionalInt("last_used_at").map({ now - $0 >= 60_000_000 }) ?? true {
            try session.execute("UPDATE api_keys SET last_used_at = $1 WHERE id = $2", [now, id])
        }
        return (id, try row.text("name"), try row.bytes("key_hash"), try row.int("admin") != 0)
    }
}

extension PostgresStore: AuditLog {
    public func appendAudit(actor: String, action: String, target: String, details: String) throws {
        try session.execute("INSERT INTO audit_log (time, actor, action, target, details) VALUES ($1, $2, $3, $4, $5)",
                            [Timestamp.now().microseconds, storable(actor), action, storable(target), storable(details)])
    }

    public func audit(action: String?, target: String?, since: Timestamp?, limit: Int) throws -> [AuditRow] {
        var conditions: [String] = []
        var values: [(any PostgresDynamicTypeEncodable)?] = []
        if let action {
            values += [action, likeLiteral(action)]
            conditions.append(#"(action = $\#(values.count - 1) OR action LIKE $\#(values.count) || '.%' ESCAPE '\')"#)
        }
        if let target { values.append(target); conditions.append("target = $\(values.count)") }
        if let since { values.append(since.microseconds); conditions.append("time >= $\(values.count)") }
        values.append(Int64(limit))
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try session.query("SELECT id, time, actor, action, target, details FROM audit_log \(whereClause) ORDER BY id DESC LIMIT $\(values.count)",
                                 values).map(Self.auditRow)
    }

    public func history(of target: String) throws -> [AuditRow] {
        try session.query("SELECT id, time, actor, action, target, details FROM audit_log WHERE target = $1 ORDER BY id", [target]).map(Self.auditRow)
    }

    static func auditRow(_ row: PostgresRandomAccessRow) throws -> AuditRow {
        AuditRow(id: try row.int("id"), time: try row.time("time"), actor: try row.text("actor"), action: try row.text("action"),
                 target: try row.text("target"), details: try row.text("details"))
    }
}
