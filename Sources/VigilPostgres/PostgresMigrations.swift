import Foundation
import VigilModel
import VigilStore

/// Applies the numbered SQL files of `schema/postgresql/` (embedded in the binary) in order,
/// one transaction each, recorded in `schema_migrations`. Nodes starting together migrate one
/// at a time: the first takes a transaction-scoped advisory lock, the others wait for it and
/// then find nothing left to do.
enum PostgresMigrations {
    /// The advisory lock every migration holds (an arbitrary constant: "VIGILMIG" in ASCII).
    static let lockKey: Int64 = 0x5649_4749_4C4D_4947

    static var all: [(version: Int, name: String, sql: String)] {
        embedded.map { (version: Int($0.name.prefix(while: \.isNumber)) ?? 0, name: $0.name, sql: $0.text) }
    }

    static var latestVersion: Int { all.last?.version ?? 0 }

    /// Brings the database up to `latestVersion`; refuses one written by a newer Vigil.
    static func migrate(_ session: PostgresSession) throws {
        try session.transaction {
            try session.execute("SELECT pg_advisory_xact_lock($1)", [lockKey])
            try session.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                """)
            let current = try currentVersion(session)
            if current > latestVersion {
                throw StoreError(.newerSchema(found: current, supported: latestVersion), """
                    the PostgreSQL database \(session.url) has schema version \(current), newer than the \(latestVersion) this vigil \
                    supports. Upgrade vigil, or point --store at another database.
                    """)
            }
            for migration in all where migration.version > current {
                do {
                    for statement in statements(in: migration.sql) { try session.execute(statement) }
                    try session.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                                        [migration.version, migration.name, Timestamp.now().microseconds])
                } catch let error as StoreError {
                    throw StoreError(error.code, "migration \(migration.name) failed and was rolled back: \(error.message)", sql: error.sql)
                }
            }
        }
    }

    /// The statements of a migration file, one by one (the extended protocol takes one at a
    /// time): whole-line `--` comments dropped, split at each `;` that ends a line outside a
    /// `$$`-quoted function body. The schema files are written to that form.
    static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !inBody, trimmed.hasPrefix("--") { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, trimmed.hasSuffix(";") {
                statements.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { statements.append(rest) }
        return statements
    }

    static func currentVersion(_ session: PostgresSession) throws(StoreError) -> Int {
        Int(try session.query("SELECT COALESCE(MAX(version), 0)::int8 AS version FROM schema_migrations").first?.int("version") ?? 0)
    }
}
