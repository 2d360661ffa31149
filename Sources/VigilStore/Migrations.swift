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
        if current < latestVersion { try connection.registerEventKeyFunctions() }
        for migration in all where migration.version > current {
            do throws(StoreError) {
                try connection.transaction { () throws(StoreError) in
                    try connection.execute(migration.sql)
                    if migration.version == 20 { try settleStorageKeyCollisions(connection) }
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

    /// Moves each event that took a storage key an earlier event holds (migration 0020) to its
    /// next free one, as the writer would have: every try before an event's own stays taken.
    static func settleStorageKeyCollisions(_ connection: Connection) throws(StoreError) {
        let collided = try connection.statement("""
            SELECT e.id FROM events e WHERE EXISTS (SELECT 1 FROM events o WHERE o.key = e.key AND o.id < e.id) ORDER BY e.id
            """).rows { $0.int("id") }
        let keyOfTry = try connection.statement("""
            SELECT vigil_event_storage_key(source_format, category, time, raw,
                (SELECT hostname FROM machines WHERE machines.id = events.machine_id), integration, ?) AS key FROM events WHERE id = ?
            """)
        let taken = try connection.statement("SELECT 1 FROM events WHERE key = ?")
        let move = try connection.statement("UPDATE events SET key = ? WHERE id = ?")
        for id in collided {
            var settled = false
            for probe in 1..<EventKey.maximumProbes {
                guard let key = try keyOfTry.bind(probe, id).firstInteger() else { break }
                guard try taken.bind(key).firstInteger() == nil else { continue }
                try move.bind(key, id).run()
                settled = true
                break
            }
            guard settled else {
                throw StoreError(.invalidValue, """
                    all \(EventKey.maximumProbes) storage keys of event \(id) hold other events, as only records crafted to collide \
                    would; the upgrade was rolled back. Delete that event with the sqlite3 shell and open the database again.
                    """)
            }
        }
    }
}
