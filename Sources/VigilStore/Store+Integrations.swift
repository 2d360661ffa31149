import VigilModel

extension Store {
    /// Every integration, by name.
    public func integrations() throws -> [IntegrationRow] {
        try integrationRows(where: "", [])
    }

    /// The integration called `name`, or nil.
    public func integration(named name: String) throws -> IntegrationRow? {
        try integrationRows(where: "WHERE i.name = ?", [name]).first
    }

    private func integrationRows(where clause: String, _ values: [(any SQLValue)?]) throws -> [IntegrationRow] {
        try connection.statement("""
            SELECT i.name, i.display_name, i.platforms, i.formats, i.enabled, i.enabled_changed_at,
                (SELECT COUNT(*) FROM access_tokens t WHERE t.integration = i.name AND t.revoked_at IS NULL AND t.expires_at > ?) AS active_tokens,
                i.last_data_at, i.events_received, i.events_refused
            FROM integrations i \(clause) ORDER BY i.name
            """).bind([Timestamp.now().microseconds] + values).rows { row in
            IntegrationRow(
                name: row.text("name"), displayName: row.text("display_name"),
                platforms: row.text("platforms").split(separator: ",").map(String.init),
                formats: row.text("formats").split(separator: ",").map(String.init),
                enabled: row.bool("enabled"), enabledChangedAt: row.optionalTime("enabled_changed_at"),
                activeTokens: Int(row.int("active_tokens")), lastDataAt: row.optionalTime("last_data_at"),
                eventsReceived: row.int("events_received"), eventsRefused: row.int("events_refused"))
        }
    }

    /// Turns an integration on or off and records it in the audit log. Turning it off
    /// revokes every token it has.
    public func setIntegration(_ name: String, enabled: Bool, actor: String) throws {
        try connection.transaction {
            let now = Timestamp.now().microseconds
            try connection.statement("UPDATE integrations SET enabled = ?, enabled_changed_at = ? WHERE name = ?")
                .bind(enabled, now, name).run()
            guard connection.changes > 0 else {
                throw StoreError(.notFound, "there is no integration called '\(name)'; see `vigil integration list`")
            }
            if !enabled {
                try connection.statement("UPDATE access_tokens SET revoked_at = ?, revoked_reason = 'integration turned off' WHERE integration = ? AND revoked_at IS NULL")
                    .bind(now, name).run()
            }
            try appendAudit(actor: actor, action: enabled ? "integration.on" : "integration.off", target: name)
        }
    }

    /// Records a refused ingest: counts it on the integration and in the audit log.
    public func recordRefusedIngest(integration: String, actor: String, reason: String) throws {
        try connection.transaction {
            try connection.statement("UPDATE integrations SET events_refused = events_refused + 1 WHERE name = ?").bind(integration).run()
            try appendAudit(actor: actor, action: "ingest.refused", target: integration, details: reason)
        }
    }
}
