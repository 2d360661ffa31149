import Foundation
import VigilPostgres
import VigilStore

/// A fresh database on the PostgreSQL server that `VIGIL_TEST_POSTGRES` names (`.ci/run`
/// starts one: scripts/postgres-test-server.sh), dropped when the value goes away.
public final class PostgresTestDatabase {
    /// The server's URL, or nil when the PostgreSQL tests are to be skipped.
    public static let serverURL = ProcessInfo.processInfo.environment["VIGIL_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    public static var available: Bool { serverURL != nil }

    public let url: PostgresURL
    private let admin: PostgresSession
    /// Login roles made for this database's tests; roles are the server's, so they are dropped with it.
    private var roles: [String] = []

    public init() throws {
        guard let serverURL = Self.serverURL else {
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "VIGIL_TEST_POSTGRES names no PostgreSQL server"])
        }
        let server = try PostgresURL(serverURL)
        admin = try PostgresSession(url: server)
        var url = server
        url.database = "vigil_test_\(UInt64.random(in: 0..<UInt64.max))"
        // From template0, which nothing connects to: copying template1 fails with 55006 when
        // another session (autovacuum, say) is connected to it as the copy starts. A 55006 all
        // the same is retried a few times.
        var attempt = 1
        while true {
            do {
                try admin.execute("CREATE DATABASE \(url.database) TEMPLATE template0")
                break
            } catch {
                guard error.code == .postgres(sqlState: "55006"), attempt < 5 else { throw error }
                attempt += 1
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
            }
        }
        self.url = url
    }

    /// A new login role with no privileges (the server trusts loopback logins), and this
    /// database's URL as that role.
    public func loginRole() throws -> (name: String, url: PostgresURL) {
        let name = "vigil_test_role_\(UInt64.random(in: 0..<UInt64.max))"
        try admin.execute("CREATE ROLE \(name) LOGIN")
        roles.append(name)
        var url = url
        url.user = name
        url.password = nil
        return (name, url)
    }

    deinit {
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)")
        for role in roles { _ = try? admin.execute("DROP ROLE IF EXISTS \(role)") }
    }
}
