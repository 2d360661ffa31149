import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import VigilModel
import VigilStore

/// One connection to a PostgreSQL store, used from one thread at a time, with a blocking API:
/// the store protocols are synchronous, and Vigil calls them off the cooperative pool (the
/// import's writer thread, the server's database threads), where waiting on a future is fine.
///
/// Connecting retries with exponential backoff, so that nodes started before their database
/// come up on their own; a connection lost mid-transaction fails that transaction (nothing of
/// it commits) and the next call reconnects.
public final class PostgresSession {
    public let url: PostgresURL
    private var connection: PostgresConnection?
    private var transactionDepth = 0
    private let logger: Logger
    /// How many connections this session has opened: what a session-level lock was taken on
    /// is gone once this moves on.
    public private(set) var connections = 0
    /// How long connecting may keep retrying before it gives up.
    public let connectTimeout: Duration

    /// Connects to `url`, retrying for up to `connectTimeout`.
    public init(url: PostgresURL, connectTimeout: Duration = .seconds(10)) throws(StoreError) {
        self.url = url
        self.connectTimeout = connectTimeout
        var logger = Logger(label: "vigil.postgres")
        logger.logLevel = .critical
        self.logger = logger
        connection = try connect()
        connections = 1
    }

    deinit {
        if let connection { try? connection.close().wait() }
    }

    private func connect() throws(StoreError) -> PostgresConnection {
        let configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: try Self.tls(for: url))
        let clock = ContinuousClock()
        let started = clock.now
        var delay = Duration.milliseconds(100)
        var attempts = 0
        while true {
            attempts += 1
            do {
                return try PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger).wait()
            } catch {
                let failure = Self.storeError(error, sql: nil)
                // Only an unreachable server is worth waiting for; a refused login or a missing database is not.
                guard failure.code == .unavailable, clock.now - started + delay <= connectTimeout else {
                    throw StoreError(failure.code, """
                        cannot connect to PostgreSQL at \(url) (\(attempts) attempt\(attempts == 1 ? "" : "s") over \
                        \(Int((clock.now - started) / .milliseconds(1))) ms): \(failure.message); check that the server runs, \
                        that the URL names it, and that the user may log in to that database
                        """)
                }
                Thread.sleep(forTimeInterval: Double(delay / .milliseconds(1)) / 1000)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    /// The TLS the URL's `sslmode` asks for: which certificates are trusted and what is checked.
    static func tls(for url: PostgresURL) throws(StoreError) -> PostgresConnection.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch url.tls {
        case .disable: return .disable
        case .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let rootCertificate = url.rootCertificate {
            guard FileManager.default.isReadableFile(atPath: rootCertificate) else {
                throw StoreError(.invalidValue, "sslrootcert \(rootCertificate) cannot be read; name a PEM file of the authorities to trust")
            }
            configuration.trustRoots = .file(rootCertificate)
        }
        do {
            let context = try NIOSSLContext(configuration: configuration)
            return url.tls == .prefer ? .prefer(context) : .require(context)
        } catch {
            throw StoreError(.invalidValue, "cannot set up TLS for \(url): \(error); check sslrootcert")
        }
    }

    /// Runs `sql` with `values` bound to `$1`, `$2`, …; returns its rows.
    @discardableResult
    public func query(_ sql: String, _ values: [(any PostgresDynamicTypeEncodable)?] = []) throws(StoreError) -> [PostgresRandomAccessRow] {
        try run(sql, values).rows.map { $0.makeRandomAccess() }
    }

    /// Runs `sql` and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ values: [(any PostgresDynamicTypeEncodable)?] = []) throws(StoreError) -> Int {
        try run(sql, values).metadata.rows ?? 0
    }

    /// Runs `sql` with `values` bound (nil as NULL), on the connection.
    private func run(_ sql: String, _ values: [(any PostgresDynamicTypeEncodable)?]) throws(StoreError) -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { bindings.append(value) } else { bindings.appendNull() }
        }
        let connection = try open()
        do {
            return try connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).wait()
        } catch {
            throw Self.storeError(error, sql: sql)
        }
    }

    /// The connection, connecting again if it was lost outside a transaction.
    private func open() throws(StoreError) -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        // A lost connection took its transaction with it: the caller's transaction fails whole.
        guard transactionDepth == 0 else {
            throw StoreError(.unavailable, "the connection to PostgreSQL at \(url) was lost mid-transaction; nothing of it was committed")
        }
        let connected = try connect()
        connection = connected
        connections += 1
        return connected
    }

    /// Runs `body` in one transaction: it commits whole, or rolls back whole when `body`
    /// throws. A transaction inside another is part of it.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        guard transactionDepth == 0 else { return try body() }
        try execute("BEGIN")
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// Whether a transaction is open.
    public var inTransaction: Bool { transactionDepth > 0 }

    /// A PostgresNIO failure as a store error: the server's SQLSTATE and message (never its
    /// detail, which may quote bound values), or `unavailable` when there is no server to ask.
    static func storeError(_ error: any Error, sql: String?) -> StoreError {
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? "no message"
                return StoreError(.postgres(sqlState: state), "PostgreSQL error \(state): \(message)", sql: sql)
            }
            // A refused certificate is not worth waiting for: say so at once.
            if let underlying = error.underlying, underlying is NIOSSLError || underlying is BoringSSLError {
                return StoreError(.invalidValue, "the TLS handshake with PostgreSQL failed (\(underlying)); check sslmode and sslrootcert", sql: sql)
            }
            if error.code == .sslUnsupported {
                return StoreError(.invalidValue, "the PostgreSQL server offers no TLS, and the URL's sslmode requires it", sql: sql)
            }
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
                let cause = error.underlying.map { "\($0)" } ?? "\(error.code)"
                return StoreError(.unavailable, "PostgreSQL cannot be reached: \(cause)", sql: sql)
            default:
                return StoreError(.invalidValue, "PostgreSQL client error: \(error.code)", sql: sql)
            }
        }
        if error is PostgresDecodingError {
            return StoreError(.invalidValue, "a PostgreSQL column did not decode as the store expected; is the schema Vigil's?", sql: sql)
        }
        if let error = error as? StoreError { return error }
        return StoreError(.unavailable, "PostgreSQL cannot be reached: \(error)", sql: sql)
    }
}

extension PostgresRandomAccessRow {
    /// Column `name` as an integer (SQL NULL is an error).
    func int(_ name: String) throws(StoreError) -> Int64 { try decode(name, Int64.self) }
    func optionalInt(_ name: String) throws(StoreError) -> Int64? { try decode(name, Int64?.self) }
    func text(_ name: String) throws(StoreError) -> String { try decode(name, String.self) }
    func optionalText(_ name: String) throws(StoreError) -> String? { try decode(name, String?.self) }
    func time(_ name: String) throws(StoreError) -> Timestamp { Timestamp(microseconds: try int(name)) }
    func optionalTime(_ name: String) throws(StoreError) -> Timestamp? { try optionalInt(name).map(Timestamp.init(microseconds:)) }
    func bytes(_ name: String) throws(StoreError) -> [UInt8] { Array(buffer: try decode(name, ByteBuffer.self)) }

    private func decode<T: PostgresDecodable>(_ name: String, _ type: T.Type) throws(StoreError) -> T {
        guard contains(name) else { throw StoreError(.notFound, "PostgreSQL returned no column \(name)") }
        do { return try self[name].decode(T.self) } catch { throw PostgresSession.storeError(error, sql: nil) }
    }
}
