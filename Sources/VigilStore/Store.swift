import VigilModel

/// The Vigil database: opens it, migrates it, and hands out the single writer and readers.
///
/// ```swift
/// let store = try Store(path: "vigil.sqlite")
/// let alerts = try store.alerts(AlertFilter(minimumSeverity: .high))
/// ```
public final class Store {
    package let connection: Connection
    public let path: String

    /// Opens (and creates or migrates) the database at `path`.
    public init(path: String) throws(StoreError) {
        self.path = path
        connection = try Connection(path: path)
        let versionBefore = try Migrations.currentVersionIfAny(connection)
        try Migrations.migrate(connection)
        // Only a new, migrated or incomplete database is written to: opening one to read
        // never waits for a running import's write lock.
        let builtin = try connection.statement("SELECT COUNT(*) FROM integrations WHERE builtin = 1").firstInteger() ?? 0
        if versionBefore < Migrations.latestVersion || builtin < IntegrationCatalogue.builtin.count {
            try seedIntegrations()
        }
    }

    /// Opens an existing database for reading and triage without migrating it (the server's
    /// request handlers); writes go through the single writer's connection.
    public init(readingAt path: String) throws(StoreError) {
        self.path = path
        connection = try Connection(path: path, create: false)
        let version = try Migrations.currentVersion(connection)
        guard version == Migrations.latestVersion else {
            throw StoreError(.newerSchema(found: version, supported: Migrations.latestVersion),
                             "the database at \(path) has schema version \(version), not \(Migrations.latestVersion); open it once with `vigil init`")
        }
    }

    /// The schema version of the open database.
    public func schemaVersion() throws(StoreError) -> Int { try Migrations.currentVersion(connection) }

    private func seedIntegrations() throws(StoreError) {
        try connection.transaction { () throws(StoreError) in
            for integration in IntegrationCatalogue.builtin {
                try connection.statement("""
                    INSERT INTO integrations (name, display_name, platforms, formats, builtin)
                    VALUES (?, ?, ?, ?, 1)
                    ON CONFLICT(name) DO UPDATE SET display_name = excluded.display_name, platforms = excluded.platforms,
                        formats = excluded.formats WHERE integrations.builtin = 1
                    """)
                    .bind(integration.name, integration.displayName, integration.platforms.joined(separator: ","),
                          integration.formats.joined(separator: ","))
                    .run()
            }
        }
    }
}

// The SQLite store serves every read-side protocol; its writer (`StoreWriter`) serves the write side.
extension Store: AlertQueries, AlertTriage, IntegrationsAndTokens {}
