import Foundation
import PostgresNIO
import VigilDetection
import VigilPipeline
import VigilPostgres
import VigilStore
import VigilTooling

/// A store backend the pipeline's tests run on.
public enum TestBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgresql

    public var description: String { rawValue }
}

/// A fresh store of one backend, every integration on: a SQLite file in the test's folder, or a
/// database of its own on the `VIGIL_TEST_POSTGRES` server. Queries that both dialects read
/// alike (`lines`) check what it holds.
public final class TestStore {
    public let backend: TestBackend
    private let sqlite: Store?
    private let postgres: (store: PostgresStore, database: PostgresTestDatabase)?

    public init(_ backend: TestBackend, in workspace: TemporaryDirectory) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            let store = try Store(path: workspace.path("store-\(UUID().uuidString).sqlite"))
            for integration in try store.integrations() { try store.setIntegration(integration.name, enabled: true, actor: "test") }
            sqlite = store
            postgres = nil
        case .postgresql:
            let database = try PostgresTestDatabase()
            let store = try PostgresStore(url: database.url)
            for integration in try store.integrations() { try store.setIntegration(integration.name, enabled: true, actor: "test") }
            sqlite = nil
            postgres = (store, database)
        }
    }

    /// An import pipeline into this store, on a writer of its own.
    public func pipeline(ruleSet: RuleSet) throws -> ImportPipeline {
        if let sqlite { return ImportPipeline(store: sqlite, ruleSet: ruleSet) }
        let postgres = try requirePostgres()
        return ImportPipeline(target: postgres.store, writer: try PostgresWriter(url: postgres.database.url), ruleSet: ruleSet)
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
