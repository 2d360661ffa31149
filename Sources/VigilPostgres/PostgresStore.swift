import NIOCore
import PostgresNIO
import VigilModel
import VigilStore

/// The Vigil database on PostgreSQL: the store for several `vigil` nodes on one server.
///
/// It opens (and migrates) the database at a `postgresql://` URL and serves the same store
/// protocols as the SQLite `Store`. Each instance holds one connection; give each thread its own.
///
/// ```swift
/// let store = try PostgresStore(url: PostgresURL("postgresql://vigil@db.internal/vigil"))
/// let alerts = try store.alerts(AlertFilter(minimumSeverity: .high))
/// ```
public final class PostgresStore {
    public let session: PostgresSession

    /// Opens the database at `url`, creating its schema or migrating it, and makes sure the
    /// built-in integrations and the event partitions around today exist.
    public init(url: PostgresURL, connectTimeout: Duration = .seconds(10)) throws {
        session = try PostgresSession(url: url, connectTimeout: connectTimeout)
        try PostgresMigrations.migrate(session)
        try seedIntegrations()
        try EventPartitions.ensure(around: .now(), session)
    }

    /// The schema version of the open database.
    public func schemaVersion() throws -> Int { try PostgresMigrations.currentVersion(session) }

    private func seedIntegrations() throws {
        try session.transaction {
            for integration in IntegrationCatalogue.builtin {
                try session.execute("""
                    INSERT INTO integrations (name, display_name, platforms, formats, builtin) VALUES ($1, $2, $3, $4, 1)
                    ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, platforms = excluded.platforms,
                        formats = excluded.formats WHERE integrations.builtin = 1
                    """, [integration.name, integration.displayName, integration.platforms.joined(separator: ","),
                          integration.formats.joined(separator: ",")])
            }
        }
    }

    /// Saved correlation windows.
    public func correlationState() throws -> [(correlationID: String, groupKey: String, state: String)] {
        try session.correlationState()
    }

    /// Replaces the saved correlation windows in one transaction.
    public func saveCorrelationState(_ rows: [(correlationID: String, groupKey: String, state: String)]) throws {
        try session.transaction { try session.replaceCorrelationState(rows) }
    }
}

extension PostgresSession {
    /// The saved correlation windows: (correlation id, group key, JSON state).
    func correlationState() throws -> [(correlationID: String, groupKey: String, state: String)] {
        try query("SELECT correlation_id, group_key, state FROM correlation_state").map {
            (try $0.text("correlation_id"), try $0.text("group_key"), try $0.text("state"))
        }
    }

    /// Replaces the saved correlation windows (inside the caller's transaction).
    func replaceCorrelationState(_ rows: [(correlationID: String, groupKey: String, state: String)]) throws {
        try execute("DELETE FROM correlation_state")
        guard !rows.isEmpty else { return }
        try execute("""
            INSERT INTO correlation_state (correlation_id, group_key, state) SELECT c, g, s FROM unnest($1::text[], $2::text[], $3::text[]) AS w(c, g, s)
            """, [rows.map(\.correlationID), rows.map { storable($0.groupKey) }, rows.map { storable($0.state) }])
    }
}

/// `text` as PostgreSQL can store it: its text type holds no NUL, so each becomes U+2400
/// (SYMBOL FOR NULL). SQLite keeps NULs; an event's key is computed from the text as read, so
/// both stores agree on identity.
func storable(_ text: String) -> String {
    guard text.utf8.contains(0) else { return text }
    return String(text.unicodeScalars.map { $0 == "\0" ? "\u{2400}" : Character($0) })
}

/// The events table's day partitions. A storage key's high bits are its event's second since
/// 1970 (`EventKey.storageKey`), so one UTC day is one range of keys.
enum EventPartitions {
    /// Days before today that get a partition of their own when a node starts; older events go to `events_default`.
    static let daysBack = 30
    /// Days after today likewise (future-dated events beyond go to `events_default`).
    static let daysAhead = 2
    /// The advisory lock partition maintenance holds, so nodes starting together create each day once.
    static let lockKey: Int64 = 0x5649_4749_4C50_4152

    /// The first storage key of day `day` (days since 1970).
    static func firstKey(ofDay day: Int64) -> Int64 { day * 86_400 << 31 }

    /// The day whose range holds `key`.
    static func day(ofKey key: Int64) -> Int64 { (key >> 31) / 86_400 }

    static func name(ofDay day: Int64) -> String { "events_d\(day)" }

    /// Creates the partitions from `daysBack` before `time`'s day to `daysAhead` after it, each
    /// in its own transaction outside any writer's. A day whose events already sit in
    /// `events_default` (imported before its partition existed) stays there.
    static func ensure(around time: Timestamp, _ session: PostgresSession) throws {
        let today = time.microseconds / 86_400_000_000
        let existing = Set(try session.query("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'events'::regclass
            """).map { try $0.text("relname") })
        for day in (today - Int64(daysBack))...(today + Int64(daysAhead)) where !existing.contains(name(ofDay: day)) {
            do {
                try session.transaction {
                    try session.execute("SELECT pg_advisory_xact_lock($1)", [lockKey])
                    try session.execute("""
                        CREATE TABLE IF NOT EXISTS \(name(ofDay: day)) PARTITION OF events
                        FOR VALUES FROM (\(firstKey(ofDay: day))) TO (\(firstKey(ofDay: day + 1)))
                        """)
                }
            } catch let error as StoreError where error.code == .postgres(sqlState: "23514") {
                continue  // events_default holds events of that day already
            }
        }
    }
}
