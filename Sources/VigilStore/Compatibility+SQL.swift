import VigilModel

/// The supported OS versions per platform, on either store; machines outside the list are
/// flagged unsupported. The SQL is written once, for both dialects, below.
public protocol CompatibilityList: AnyObject {
    /// The list, by platform, distribution and version (numerically, then as text).
    func compatibility() throws -> [CompatibilityRow]
    /// Adds a supported OS version, or replaces its note; audited.
    func addCompatibility(_ row: CompatibilityRow, actor: String) throws
}

extension CompatibilityList where Self: SQLWriter & AuditLog {
    public func compatibility() throws -> [CompatibilityRow] {
        try read("""
            SELECT platform, distribution, version, note FROM compatibility
            ORDER BY platform, distribution, \(dialect.leadingNumber("version")), version
            """, []) {
                CompatibilityRow(platform: try $0.text("platform"), distribution: try $0.text("distribution"), version: try $0.text("version"),
                                 note: try $0.text("note"))
            }
    }

    public func addCompatibility(_ row: CompatibilityRow, actor: String) throws {
        try inTransaction {
            try write("""
                INSERT INTO compatibility (platform, distribution, version, note) VALUES (?, ?, ?, ?)
                ON CONFLICT (platform, distribution, version) DO UPDATE SET note = excluded.note
                """, [.text(row.platform), .text(row.distribution.lowercased()), .text(row.version), .text(row.note)])
            try appendAudit(actor: actor, action: "compatibility.add", target: row.platform,
                            details: [row.distribution, row.version].filter { !$0.isEmpty }.joined(separator: " "))
        }
    }
}

extension Store: CompatibilityList {}
