import Foundation
import PostgresNIO
import VigilDetection
import VigilModel
import VigilPipeline
import VigilPostgres
import VigilStore
import VigilTooling

/// A store backend the pipeline's tests run on.
public enum TestBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgresql

    public var description: String { rawValue }

    /// SQLite, and PostgreSQL when `VIGIL_TEST_POSTGRES` names a server.
    public static let available: [TestBackend] = PostgresTestDatabase.available ? [.sqlite, .postgresql] : [.sqlite]
}

/// A fresh store of one backend, every integration on: a SQLite file in the test's folder, or a
/// database of its own on the `VIGIL_TEST_POSTGRES` server. Queries that both dialects read
/// alike (`lines`) check what it holds.
public final class TestStore {
    public let backend: TestBackend
    /// The SQLite store, for what runs on SQLite only; nil on PostgreSQL.
    public let sqlite: Store?
    private let postgres: (store: PostgresStore, database: PostgresTestDatabase)?

    /// A fresh store; every integration is on unless `integrationsOn` is false.
    public init(_ backend: TestBackend, in workspace: TemporaryDirectory, integrationsOn: Bool = true) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            sqlite = try Store(path: workspace.path("store-\(UUID().uuidString).sqlite"))
            postgres = nil
        case .postgresql:
            let database = try PostgresTestDatabase()
            sqlite = nil
            postgres = (try PostgresStore(url: database.url), database)
        }
        if integrationsOn {
            for integration in try store.integrations() { try store.setIntegration(integration.name, enabled: true, actor: "test") }
        }
    }

    /// The store's queries, triage, integrations, tokens, audit log, delivery and console sessions. On PostgreSQL its
    /// database is dropped with this `TestStore`: keep the `TestStore` for as long as the store is used.
    public var store: any AlertQueries & AlertTriage & IntegrationsAndTokens & AuditLog & DeliveryStore & ConsoleSessionStore & CustomDetectionStore {
        if let sqlite { return sqlite }
        return postgres!.store  // one of the two is set by init
    }

    /// The PostgreSQL store, for what runs on PostgreSQL only; nil on SQLite.
    public var postgresStore: PostgresStore? { postgres?.store }
    /// The PostgreSQL test database (its URL and login roles); nil on SQLite.
    public var postgresDatabase: PostgresTestDatabase? { postgres?.database }

    /// An import pipeline into this store, on a writer of its own.
    public func pipeline(ruleSet: RuleSet, dedupeWindow: Duration = .seconds(3600), incidentPolicy: IncidentPolicy = IncidentPolicy()) throws -> ImportPipeline {
        if let sqlite { return ImportPipeline(store: sqlite, ruleSet: ruleSet, dedupeWindow: dedupeWindow, incidentPolicy: incidentPolicy) }
        let postgres = try requirePostgres()
        return ImportPipeline(target: postgres.store, writer: try PostgresWriter(url: postgres.database.url), ruleSet: ruleSet,
                              dedupeWindow: dedupeWindow, incidentPolicy: incidentPolicy)
    }

    /// Purges events older than `cutoff` (and the outbox entries every subscription handled).
    public func purgeEvents(olderThan cutoff: Timestamp) throws -> PurgeOutcome {
        if let sqlite { return try sqlite.purgeEvents(olderThan: cutoff, includingAlertEvidence: false, actor: "test") }
        return try requirePostgres().store.purgeEvents(olderThan: cutoff, includingAlertEvidence: false, actor: "test")
    }

    /// A batch writer of its own into this store.
    public func writer() throws -> any BatchWriter {
        if let sqlite { return StoreWriter(store: sqlite) }
        return try PostgresWriter(url: requirePostgres().database.url)
    }

    /// Runs `sql` (with `?` placeholders) to change the store behind the pipeline's back.
    public func execute(_ sql: String, _ values: [SQLParameter] = []) throws {
        if let sqlite {
            try sqlite.connection.statement(sql).bind(values.map { value -> (any SQLValue)? in
                switch value {
                case .int(let number): number
                case .text(let text): text
                case .null: nil
                }
            }).run()
            return
        }
        try requirePostgres().store.session.execute(SQLDialect.postgresql.placeholders(in: sql), values.map { value -> (any PostgresDynamicTypeEncodable)? in
            switch value {
            case .int(let number): number
            case .text(let text): text
            case .null: nil
            }
        })
    }

    /// The integer column `value` of the first row of `sql`; nil when there is no row.
    public func integer(_ sql: String, _ values: [SQLParameter] = []) throws -> Int64? {
        let reader: any SQLReader = sqlite ?? postgres!.store  // one of the two is set by init
        return try reader.read(sql, values) { try $0.int("value") }.first
    }

    /// How many rows `table` holds.
    public func count(_ table: Store.CountedTable) throws -> Int {
        if let sqlite { return try sqlite.count(table) }
        return Int(try requirePostgres().store.session.query("SELECT COUNT(*) AS n FROM \(table.rawValue)").first?["n"].decode(Int64.self) ?? 0)
    }

    /// The column `line` (text) of every row of `sql`, in the order the query gives.
    public func lines(_ sql: String) throws -> [String] {
        if let sqlite { return try sqlite.connection.statement(sql).rows { $0.text("line") } }
        return try requirePostgres().store.session.query(sql).map { try $0["line"].decode(String.self) }
    }

    private func requirePostgres() throws -> (store: PostgresStore, database: PostgresTestDatabase) {
        guard let postgres else { throw StoreError(.notFound, "this test store is not PostgreSQL") }
        return postgres
    }
}
