import VigilModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One import: a file, stdin or one HTTP push, and what it stored.
public struct ImportRow: Sendable {
    public var id: Int64
    public var source: String
    public var format: String
    public var integration: String
    public var startedAt: Timestamp
    public var finishedAt: Timestamp?
    public var recordsRead: Int64
    public var eventsStored: Int64
    public var rejected: Int64
    public var duplicates: Int64
    public var alertsRaised: Int64
    /// `running`, `completed`, `failed`, or `interrupted` (the process died mid-import).
    public var status: String
}

/// A record an import could not use, with its line and why.
public struct RejectedRow: Sendable {
    public var importID: Int64
    public var record: RejectedRecord
}

extension Store {
    /// The newest imports first.
    public func imports(limit: Int = 100) throws -> [ImportRow] {
        try connection.statement("""
            SELECT id, source, format, integration, started_at, finished_at, records_read, events_stored, rejected,
                duplicates, alerts_raised, status
            FROM imports ORDER BY id DESC LIMIT ?
            """).bind(limit).rows { row in
            ImportRow(id: row.int("id"), source: row.text("source"), format: row.text("format"), integration: row.text("integration"),
                      startedAt: row.time("started_at"), finishedAt: row.optionalTime("finished_at"),
                      recordsRead: row.int("records_read"), eventsStored: row.int("events_stored"), rejected: row.int("rejected"),
                      duplicates: row.int("duplicates"), alertsRaised: row.int("alerts_raised"), status: row.text("status"))
        }
    }

    /// Rejected records in input order, of one import or of all.
    public func rejectedRecords(importID: Int64?, limit: Int = 1_000) throws -> [RejectedRow] {
        let statement = importID == nil
            ? try connection.statement("SELECT import_id, line, reason, raw_prefix FROM rejected_records ORDER BY id LIMIT ?").bind(limit)
            : try connection.statement("SELECT import_id, line, reason, raw_prefix FROM rejected_records WHERE import_id = ? ORDER BY id LIMIT ?")
                .bind(importID, limit)
        return try statement.rows { row in
            RejectedRow(importID: row.int("import_id"),
                        record: RejectedRecord(line: Int(row.int("line")), reason: row.text("reason"), raw: row.text("raw_prefix")))
        }
    }

    /// Takes the database's writer lock for this process's lifetime, or fails at once naming
    /// who holds it. Imports that are still `running` when the lock is free belonged to a
    /// process that died; they become `interrupted`.
    ///
    /// One process at a time writes imports and correlation state: `vigil import` or `vigil serve`.
    public func acquireWriterLock(holder: String) throws(StoreError) -> WriterLock {
        let lock = try WriterLock(databasePath: path, holder: holder)
        try markRunningImportsInterrupted()
        return lock
    }

    /// Marks imports left `running` by a process that died as `interrupted`, when no process
    /// holds the writer lock; a no-op otherwise. Every CLI command calls this on open.
    public func markInterruptedImports() throws(StoreError) {
        guard try connection.statement("SELECT 1 FROM imports WHERE status = 'running' LIMIT 1").firstInteger() != nil,
            let lock = try? WriterLock(databasePath: path, holder: "recovery")
        else { return }
        try withExtendedLifetime(lock) { () throws(StoreError) in try markRunningImportsInterrupted() }
    }

    /// Only while holding the writer lock: no other process can be running these imports.
    private func markRunningImportsInterrupted() throws(StoreError) {
        try connection.execute("UPDATE imports SET status = 'interrupted' WHERE status = 'running'")
    }
}

/// An advisory `flock` on `<database>-writer.lock`, released when this object goes away or
/// the process dies (even by `kill -9`).
public final class WriterLock {
    private let descriptor: Int32

    init(databasePath: String, holder: String) throws(StoreError) {
        let lockPath = databasePath + "-writer.lock"
        descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(.io, "cannot open the writer lock \(lockPath): \(String(cString: strerror(errno))). Check the directory's permissions.")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = pread(descriptor, &buffer, buffer.count, 0)
            let owner = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
                .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            close(descriptor)
            throw StoreError(.busy, """
                another Vigil process is writing to \(databasePath)\(owner.isEmpty ? "" : " (\(owner))"). \
                Wait for it to finish; while `vigil serve` runs, push data to it over HTTP instead.
                """)
        }
        let text = Array("\(holder), pid \(getpid()), since \(Timestamp.now().iso8601)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, text, text.count, 0)
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
