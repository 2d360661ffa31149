import CSQLite
import VigilModel

extension Store {
    /// Verifies the database: SQLite's page-level `integrity_check`, foreign keys, and that
    /// imports, events, rejected records and alerts agree with one another.
    public func check() throws -> CheckReport {
        var report = CheckReport()
        try connection.statement("PRAGMA integrity_check").forEachRow { row in
            let line = row.text("integrity_check")
            if line != "ok" { report.problems.append("integrity: \(line)") }
        }
        try connection.statement("PRAGMA foreign_key_check").forEachRow { row in
            report.problems.append("foreign key: a row of \(row.text("table")) (rowid \(row.int("rowid"))) refers to a missing row of \(row.text("parent"))")
        }
        // Purge may delete events later, so an import can hold fewer events than it stored, never more.
        try connection.statement("""
            SELECT i.id, i.events_stored, i.rejected, COALESCE(e.count, 0) AS events_found, COALESCE(r.count, 0) AS rejected_found
            FROM imports i
            LEFT JOIN (SELECT import_id, COUNT(*) AS count FROM events GROUP BY import_id) e ON e.import_id = i.id
            LEFT JOIN (SELECT import_id, COUNT(*) AS count FROM rejected_records GROUP BY import_id) r ON r.import_id = i.id
            """).forEachRow { row in
            report.imports += 1
            let id = row.int("id"), stored = row.int("events_stored"), found = row.int("events_found")
            if found > stored {
                report.problems.append("import \(id) recorded \(stored) events stored but \(found) events name it")
            }
            let rejected = row.int("rejected"), rejectedFound = row.int("rejected_found")
            if rejectedFound != rejected {
                report.problems.append("import \(id) recorded \(rejected) rejected records but \(rejectedFound) are stored")
            }
        }
        let orphanEvents = try connection.statement("SELECT COUNT(*) FROM events WHERE import_id IS NOT NULL AND import_id NOT IN (SELECT id FROM imports)").firstInteger() ?? 0
        if orphanEvents > 0 { report.problems.append("\(orphanEvents) events name an import that does not exist") }
        let undercounted = try connection.statement("""
            SELECT COUNT(*) FROM alerts a WHERE a.event_count < (SELECT COUNT(*) FROM alert_events ae WHERE ae.alert_id = a.id)
            """).firstInteger() ?? 0
        if undercounted > 0 { report.problems.append("\(undercounted) alerts count fewer events than alert_events links to them") }
        report.events = Int(try connection.statement("SELECT COUNT(*) FROM events").firstInteger() ?? 0)
        report.alerts = Int(try connection.statement("SELECT COUNT(*) FROM alerts").firstInteger() ?? 0)
        try connection.statement("""
            SELECT m.hostname, m.event_count, (SELECT COUNT(*) FROM events e WHERE e.machine_id = m.id) AS found
            FROM machines m WHERE found != m.event_count
            """).forEachRow { row in
            report.problems.append("machine \(row.text("hostname")) counts \(row.int("event_count")) events but \(row.int("found")) are stored")
        }
        try connection.statement("""
            SELECT m.hostname, m.alert_count, (SELECT COUNT(*) FROM alerts a WHERE a.machine_id = m.id) AS found
            FROM machines m WHERE found != m.alert_count
            """).forEachRow { row in
            report.problems.append("machine \(row.text("hostname")) counts \(row.int("alert_count")) alerts but \(row.int("found")) are stored")
        }
        // The dashboard's counts (alert_counts) against the alerts they count, both ways.
        try connection.statement("""
            SELECT day, severity, integration, SUM(kept) AS kept, SUM(found) AS found FROM (
                SELECT day, severity, integration, count AS kept, 0 AS found FROM alert_counts
                UNION ALL
                SELECT last_event_time / 86400000000, severity, integration, 0, 1 FROM alerts)
            GROUP BY day, severity, integration HAVING SUM(kept) != SUM(found)
            """).forEachRow { row in
            report.problems.append("alert_counts keeps \(row.int("kept")) alerts of severity \(row.int("severity")) from \(row.text("integration")) on day \(row.int("day")) but \(row.int("found")) are stored")
        }
        return report
    }

    /// Copies the database to `destination` with SQLite's online backup API, in one step
    /// under a read transaction: a consistent snapshot, while imports keep writing.
    public func backup(to destination: String) throws(StoreError) {
        var target: OpaquePointer?
        let opened = sqlite3_open_v2(destination, &target, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        defer { sqlite3_close_v2(target) }
        guard opened == SQLITE_OK, let target else {
            throw StoreError(.sqlite(opened), "cannot create the backup at \(destination); check the folder exists and is writable")
        }
        guard let backup = sqlite3_backup_init(target, "main", connection.handle, "main") else {
            throw StoreError(.sqlite(sqlite3_errcode(target)), "cannot start the backup: \(String(cString: sqlite3_errmsg(target))). Is \(destination) an open database?")
        }
        var result: Int32
        repeat {
            result = sqlite3_backup_step(backup, -1)
            if result == SQLITE_BUSY || result == SQLITE_LOCKED { sqlite3_sleep(50) }
        } while result == SQLITE_BUSY || result == SQLITE_LOCKED || result == SQLITE_OK
        let finished = sqlite3_backup_finish(backup)
        guard result == SQLITE_DONE, finished == SQLITE_OK else {
            throw StoreError(.sqlite(result), "the backup to \(destination) failed (SQLite \(result)); delete the partial file and retry")
        }
        sqlite3_exec(target, "PRAGMA journal_mode = WAL", nil, nil, nil)
    }

    /// Deletes events older than `cutoff`, `idsPerTransaction` row ids at a time so readers
    /// and imports are never held up for long. Events an alert cites are kept unless
    /// `includingAlertEvidence`, in which case their links go too (the alerts stay).
    public func purgeEvents(olderThan cutoff: Timestamp, includingAlertEvidence: Bool, actor: String,
                            idsPerTransaction: Int64 = 20_000) throws -> PurgeOutcome {
        var outcome = PurgeOutcome()
        guard let lowest = try connection.statement("SELECT MIN(id) FROM events").firstInteger(),
            let highest = try connection.statement("SELECT MAX(id) FROM events").firstInteger()
        else { return outcome }
        var start = lowest
        while start <= highest {
            let end = start + idsPerTransaction - 1
            try connection.transaction {
                if includingAlertEvidence {
                    try connection.statement("""
                        DELETE FROM alert_events WHERE event_id IN (SELECT id FROM events WHERE id BETWEEN ? AND ? AND time < ?)
                        """).bind(start, end, cutoff.microseconds).run()
                } else {
                    outcome.evidenceKept += Int(try connection.statement("""
                        SELECT COUNT(*) FROM events WHERE id BETWEEN ? AND ? AND time < ? AND id IN (SELECT event_id FROM alert_events)
                        """).bind(start, end, cutoff.microseconds).firstInteger() ?? 0)
                }
                // Each machine's event count drops by what is deleted of its events.
                try connection.statement("""
                    UPDATE machines SET event_count = event_count - (
                        SELECT COUNT(*) FROM events e WHERE e.machine_id = machines.id AND e.id BETWEEN ? AND ? AND e.time < ?
                            AND e.id NOT IN (SELECT event_id FROM alert_events))
                    WHERE id IN (SELECT machine_id FROM events WHERE id BETWEEN ? AND ? AND time < ?)
                    """).bind(start, end, cutoff.microseconds, start, end, cutoff.microseconds).run()
                try connection.statement("""
                    DELETE FROM events WHERE id BETWEEN ? AND ? AND time < ? AND id NOT IN (SELECT event_id FROM alert_events)
                    """).bind(start, end, cutoff.microseconds).run()
                outcome.eventsDeleted += connection.changes
            }
            outcome.transactions += 1
            start = end + 1
        }
        // Outbox entries go too once they are that old and every subscription is past them
        // (a paused subscription keeps what it has not sent).
        try connection.statement("""
            DELETE FROM outbox WHERE created_at < ?
              AND id <= COALESCE((SELECT MIN(cursor) FROM subscriptions), (SELECT MAX(id) FROM outbox))
            """).bind(cutoff.microseconds).run()
        outcome.outboxEntriesDeleted = connection.changes
        try appendAudit(actor: actor, action: "events.purge", target: "events",
                        details: "older than \(cutoff.iso8601): \(outcome.eventsDeleted) deleted, \(outcome.evidenceKept) kept as alert evidence"
                            + (includingAlertEvidence ? ", alert evidence included" : "")
                            + ", \(outcome.outboxEntriesDeleted) delivered outbox entries deleted")
        return outcome
    }
}
