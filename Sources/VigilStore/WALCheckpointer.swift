import CSQLite
import Foundation

/// Checkpoints the single writer's WAL on a thread of its own, so that the writer does not stop
/// to copy the WAL into the database file.
///
/// SQLite's own autocheckpoint runs inside the commit that takes the WAL past 1,000 pages: the
/// writer copies those pages into the database file and syncs it before it writes the next
/// batch. Here that commit only wakes this thread, which checkpoints through its own connection
/// in PASSIVE mode (it never blocks the writer or a reader). The WAL restarts from its
/// beginning only once it is all copied when a write begins, which a long import rarely
/// leaves time for; a WAL past `inlineLimit` pages is therefore checkpointed inside the commit,
/// as SQLite would have, and stays bounded. By then this thread has copied most of it.
///
/// Measured on `vigil import` of 300k JSON events (one run, alternating): the writer worked
/// 3.3 s with SQLite's autocheckpoint and 2.0–2.3 s with none.
final class WALCheckpointer: @unchecked Sendable {
    /// WAL pages after a commit that wake the thread (SQLite's autocheckpoint default).
    static let backgroundThreshold: Int32 = 1_000
    /// WAL pages after a commit that make the commit checkpoint itself (64 MiB of 4 KiB pages).
    static let inlineLimit: Int32 = 16_384

    private let path: String
    private let writer: Connection
    // `pending`, `stopping` and `running` are guarded by `condition`.
    private let condition = NSCondition()
    private var pending = false
    private var stopping = false
    private var running = false

    /// Takes over checkpointing for `writer`, the store's writing connection.
    init(writer: Connection) {
        self.writer = writer
        path = writer.path
        // Unsafe: SQLite keeps this unretained pointer until `detach()` removes the hook; the
        // writer that owns this object calls `detach()` before it goes away.
        sqlite3_wal_hook(writer.handle, { context, database, name, pages in
            guard let context else { return SQLITE_OK }
            Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().committed(pages: pages, database: database, name: name)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Whether the thread is running (it starts at the first commit that calls for a checkpoint).
    var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    /// Hands checkpointing back to SQLite's autocheckpoint and waits for the thread to finish.
    func detach() {
        sqlite3_wal_autocheckpoint(writer.handle, Self.backgroundThreshold)
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private func committed(pages: Int32, database: OpaquePointer?, name: UnsafePointer<CChar>?) {
        if pages >= Self.inlineLimit {
            sqlite3_wal_checkpoint_v2(database, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        guard pages >= Self.backgroundThreshold else { return }
        condition.lock()
        defer { condition.unlock() }
        pending = true
        if running {
            condition.signal()
            return
        }
        guard !stopping else { return }
        running = true
        let thread = Thread { [self] in checkpointUntilStopped() }
        thread.name = "vigil-checkpoint"
        thread.start()
    }

    /// The thread's life: one PASSIVE checkpoint per wake-up, through a connection of its own.
    private func checkpointUntilStopped() {
        let connection = try? Connection(path: path, create: false)
        condition.lock()
        while true {
            while !pending && !stopping { condition.wait() }
            if stopping { break }
            pending = false
            condition.unlock()
            if let connection { sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) }
            condition.lock()
        }
        running = false
        condition.broadcast()
        condition.unlock()
    }
}
