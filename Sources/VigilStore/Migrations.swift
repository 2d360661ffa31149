import VigilModel

/// Applies the numbered SQL files of `schema/` (embedded in the binary) in order, one
/// transaction each, and records each in `schema_migrations`.
package enum Migrations {
    /// The embedded migrations as (version, name, sql), in order.
    package static var all: [(version: Int, name: String, sql: String)] {
        embedded.map { (version: Int($0.name.prefix(while: \.isNumber)) ?? 0, name: $0.name, sql: $0.text) }
    }

    /// The schema version this build writes.
    package static var latestVersion: Int { all.last?.version ?? 0 }

    /// Brings `connection` up to `latestVersion`; refuses a database from a newer Vigil.
    package static func migrate(_ connection: Connection) throws(StoreError) {
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)
            """)
        let current = try currentVersion(connection)
        if current > latestVersion {
            throw StoreError(
                .newerSchema(found: current, supported: latestVersion),
                "the database at \(connection.path) has schema version \(current), newer than the \(latestVersion) this vigil supports. Upgrade vigil, or point --db at another database."
            )
        }
        if current < latestVersion { try connection.registerEventKeyFunction() }
        for migration in all where migration.version > current {
            do throws(StoreError) {
                try connection.transaction { () throws(StoreError) in
                    try connection.execute(migration.sql)
                    try connection.statement("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
                        .bind(migration.version, migration.name, Timestamp.now().microseconds).run()
                }
            } catch {
                throw StoreError(error.code, "migration \(migration.name) failed and was rolled back: \(error.message)", sql: error.sql)
            }
        }
    }

    /// The highest applied migration, 0 for a new database or one without the migrations table.
    package static func currentVersionIfAny(_ connection: Connection) throws(StoreError) -> Int {
        let exists = try connection.statement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").firstInteger() != nil
        return exists ? try currentVersion(connection) : 0
    }

    /// The highest applied migration, 0 for a new database.
    package static func currentVersion(_ connection: Connection) throws(StoreError) -> Int {
        try connection.statement("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations").firstRow { Int($0.int("version")) } ?? 0
    }
}
