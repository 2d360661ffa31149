import VigilModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
