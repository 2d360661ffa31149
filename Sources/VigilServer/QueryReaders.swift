import HTTPTypes
import Synchronization
import VigilStore

/// What one request's queries read through: alerts, integrations, the audit log, the outbox, the
/// compatibility list and console sessions.
public typealias QueryStore = any AlertQueries & IntegrationsAndTokens & AuditLog & DeliveryStore & CompatibilityList & ConsoleSessionStore

/// Where the query routes read. Each request's queries run on a connection no other request
/// uses at the same time, on the blocking pool (never on the cooperative pool).
enum QueryReaders: Sendable {
    /// A read connection of its own to the SQLite file per request: WAL readers never wait for the writer.
    case sqlite(path: String)
    /// Connections lent from a pool (PostgreSQL, where a connection costs a login).
    case pooled(ReaderPool)

    func read<T: Sendable>(_ query: @escaping @Sendable (QueryStore) throws -> T) async throws -> T {
        switch self {
        case .sqlite(let path): try await onReadConnection(path, query)
        case .pooled(let pool): try await pool.read(query)
        }
    }
}

/// Read connections kept open between requests and lent to one request at a time. A request
/// finding none idle opens another; at most `size` are kept once returned. A connection whose
/// query failed because the server went away is dropped, not returned.
public final class ReaderPool: Sendable {
    /// How many idle connections the pool keeps.
    public let size: Int
    private let open: @Sendable () throws -> QueryStore
    private let idle = Mutex<[Lent]>([])

    /// A store lent to one request. Safety: it is only touched by the request that took it
    /// from `idle` (under the lock) until it is put back.
    private struct Lent: @unchecked Sendable {
        let store: QueryStore
    }

    /// A pool keeping up to `size` connections that `open` makes.
    public init(size: Int, open: @escaping @Sendable () throws -> QueryStore) {
        precondition(size > 0, "a reader pool keeps at least one connection")
        self.size = size
        self.open = open
    }

    func read<T: Sendable>(_ query: @escaping @Sendable (QueryStore) throws -> T) async throws -> T {
        try await onBlockingPool { [self] in
            let lent: Lent
            if let taken = idle.withLock({ $0.popLast() }) {
                lent = taken
            } else {
                do { lent = Lent(store: try open()) } catch {
                    throw apiError(.serviceUnavailable, "the store cannot be opened: \(error); try again shortly")
                }
            }
            do {
                let result = try query(lent.store)
                giveBack(lent)
                return result
            } catch let error as StoreError where error.code == .unavailable {
                throw error
            } catch {
                giveBack(lent)
                throw error
            }
        }
    }

    private func giveBack(_ lent: Lent) {
        idle.withLock { idle in
            if idle.count < size { idle.append(lent) }
        }
    }
}
