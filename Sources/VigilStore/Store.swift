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
        do {
            try connection.transaction {
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
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.sqlite(1), "\(error)")
        }
    }
}

/// A third-party solution that sends data, and what it covers.
public struct IntegrationDefinition: Sendable, Equatable {
    public var name: String
    public var displayName: String
    public var platforms: [String]
    public var formats: [String]

    public init(name: String, displayName: String, platforms: [String], formats: [String]) {
        self.name = name
        self.displayName = displayName
        self.platforms = platforms
        self.formats = formats
    }
}

/// The integrations every new database knows.
public enum IntegrationCatalogue {
    public static let builtin: [IntegrationDefinition] = [
        IntegrationDefinition(name: "json", displayName: "Generic JSON (ECS/OCSF)", platforms: ["linux", "macos", "ios", "android"], formats: ["json"]),
        IntegrationDefinition(name: "auditd", displayName: "Linux auditd", platforms: ["linux"], formats: ["auditd"]),
        IntegrationDefinition(name: "syslog", displayName: "Linux syslog", platforms: ["linux"], formats: ["syslog"]),
        IntegrationDefinition(name: "sysmon-linux", displayName: "Sysmon for Linux", platforms: ["linux"], formats: ["sysmon-linux"]),
        IntegrationDefinition(name: "osquery", displayName: "osquery", platforms: ["linux", "macos"], formats: ["osquery"]),
        IntegrationDefinition(name: "clamav", displayName: "ClamAV", platforms: ["linux", "macos"], formats: ["clamav"]),
        IntegrationDefinition(name: "santa", displayName: "Santa", platforms: ["macos"], formats: ["santa"]),
        IntegrationDefinition(name: "jamf-protect", displayName: "Jamf Protect", platforms: ["macos", "ios"], formats: ["jamf-protect", "eslogger", "unified-log"]),
        IntegrationDefinition(name: "eslogger", displayName: "Apple Endpoint Security (eslogger)", platforms: ["macos"], formats: ["eslogger", "unified-log"]),
        IntegrationDefinition(name: "cef", displayName: "CEF antivirus and EDR", platforms: ["linux", "macos", "ios", "android"], formats: ["cef"]),
        IntegrationDefinition(name: "mobile-threat-defense", displayName: "Mobile threat defense", platforms: ["ios", "android"], formats: ["mobile-threat-defense", "cef", "json"]),
    ]
}
