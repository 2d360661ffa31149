import VigilModel

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
