import Foundation
import HTTPTypes
import NIOPosix
import VigilStore

/// A database connection (or anything holding one) that request handlers share: every use
/// runs on a thread of a blocking pool, never on the cooperative pool or an actor, and one at
/// a time.
final class SerialDatabase<Resource>: @unchecked Sendable {
    // Safety: `resource` is touched only inside `run`, under `lock`, so by one thread at a time.
    private let resource: Resource
    private let lock = NSLock()
    private let pool: NIOThreadPool

    /// `pool` runs the work: the shared blocking pool, or a thread of the writer's own.
    init(_ resource: Resource, pool: NIOThreadPool = .singleton) {
        self.resource = resource
        self.pool = pool
    }

    /// Runs `body` with the resource on the pool and returns what it returns.
    func run<T: Sendable>(_ body: @escaping @Sendable (Resource) throws -> T) async throws -> T {
        try await pool.runIfActive { [self] in
            lock.lock()
            defer { lock.unlock() }
            return try body(resource)
        }
    }
}

/// Runs `body` (SQLite reads on a connection of its own) on the shared blocking pool, off the
/// cooperative pool whose few threads every request's async work needs.
func onBlockingPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}

/// Runs `body` on a read connection of its own to the database at `path`, on the shared
/// blocking pool: never on the cooperative pool, and never behind the writer (WAL readers do
/// not wait for it).
func onReadConnection<T: Sendable>(_ path: String, _ body: @escaping @Sendable (Store) throws -> T) async throws -> T {
    try await onBlockingPool {
        let store: Store
        do { store = try Store(readingAt: path) } catch { throw apiError(.serviceUnavailable, "the database cannot be opened: \(error)") }
        return try body(store)
    }
}
