import Foundation
import VigilPostgres

/// A fresh database on the PostgreSQL server that `VIGIL_TEST_POSTGRES` names (`.ci/run`
/// starts one: scripts/postgres-test-server.sh), dropped when the value goes away.
public final class PostgresTestDatabase {
    /// The server's URL, or nil when the PostgreSQL tests are to be skipped.
    public static let serverURL = ProcessInfo.processInfo.environment["VIGIL_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    public static var available: Bool { serverURL != nil }

    public let url: PostgresURL
    private let admin: PostgresSession

    public init() throws {
        guard let serverURL = Self.serverURL else {
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "VIGIL_TEST_POSTGRES names no PostgreSQL server"])
        }
        let server = try PostgresURL(serverURL)
        admin = try PostgresSession(url: server)
        var url = server
        url.database = "vigil_test_\(UInt64.random(in: 0..<UInt64.max))"
        try admin.execute("CREATE DATABASE \(url.database)")
        self.url = url
    }

    deinit {
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)")
    }
}
