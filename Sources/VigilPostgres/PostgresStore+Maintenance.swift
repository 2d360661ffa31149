import VigilModel
import VigilStore

extension PostgresStore {
    /// Deletes events older than `cutoff`, as the SQLite store does, but a whole day at a time
    /// where it can: a day partition that ends before the cutoff, and holds no event an alert
    /// cites (or `includingAlertEvidence`), is dropped; the rest is deleted row by row. Audited.
    public func purgeEvents(olderThan cutoff: Timestamp, includingAlertEvidence: Bool, actor: String) throws -> PurgeOutcome {
        var outcome = PurgeOutcome()
        let partitions = try session.query("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'events'::regclass AND c.relname LIKE 'events_d%' ORDER BY c.relname
            """).map { try $0.text("relname") }
        let lastWholeDay = cutoff.microseconds / 86_400_000_000 - 1
        for name in partitions {
            guard let day = Int64(name.dropFirst("events_d".count)), day <= lastWholeDay else { continue }
            try session.transaction {
                if includingAlertEvidence {
                    try session.execute("DELETE FROM alert_events WHERE event_id IN (SELECT id FROM \(name))")
                } else if try !session.query("SELECT 1 FROM \(name) e JOIN alert_events a ON a.event_id = e.id LIMIT 1").isEmpty {
                    return  // alerts cite some of its events: deleted row by row below
                }
                try session.execute("""
                    UPDATE machines m SET event_count = m.event_count - d.n FROM (SELECT machine_id, COUNT(*) AS n FROM \(name) GROUP BY machine_id) d
                    WHERE m.id = d.machine_id
                    """)
                outcome.eventsDeleted += Int(try session.query("SELECT COUNT(*) AS n FROM \(name)").first?.int("n") ?? 0)
                try session.execute("DROP TABLE \(name)")
                outcome.partitionsDropped += 1
            }
        }
        // What is left before the cutoff: days whose alerts keep some events, today's older
        // part, and events_default.
        try session.transaction {
            if includingAlertEvidence {
                try session.execute("DELETE FROM alert_events WHERE event_id IN (SELECT id FROM events WHERE time < $1)", [cutoff.microseconds])
            } else {
                outcome.evidenceKept = Int(try session.query("""
                    SELECT COUNT(*) AS n FROM events e WHERE e.time < $1 AND EXISTS (SELECT 1 FROM alert_events a WHERE a.event_id = e.id)
                    """, [cutoff.microseconds]).first?.int("n") ?? 0)
            }
            let deleted = try session.query("""
                WITH gone AS (
                    DELETE FROM events e WHERE e.time < $1 AND NOT EXISTS (SELECT 1 FROM alert_events a WHERE a.event_id = e.id)
                    RETURNING machine_id)
                SELECT machine_id, COUNT(*) AS n FROM gone GROUP BY machine_id ORDER BY machine_id
                """, [cutoff.microseconds])
            for row in deleted {
                try session.execute("UPDATE machines SET event_count = event_count - $1 WHERE id = $2", [try row.int("n"), try row.int("machine_id")])
                outcome.eventsDeleted += Int(try row.int("n"))
            }
            outcome.outboxEntriesDeleted = try session.execute("""
                DELETE FROM outbox WHERE created_at < $1
                  AND id <= COALESCE((SELECT MIN(cursor) FROM subscriptions), (SELECT MAX(id) FROM outbox))
                """, [cutoff.microseconds])
            try appendAudit(actor: actor, action: "events.purge", target: "events", details: """
                older than \(cutoff.iso8601): \(outcome.eventsDeleted) deleted (\(outcome.partitionsDropped) day partitions dropped), \
                \(outcome.evidenceKept) kept as alert evidence
                """)
        }
        outcome.transactions = outcome.partitionsDropped + 1
        return outcome
    }

    /// What `vigil check` verifies on PostgreSQL (the server checks its own pages): the schema
    /// version, that every event's import exists, that each machine's event count is its
    /// events', that the alert counts are the alerts', and that no alert links an event that is gone.
    public func check() throws -> CheckReport {
        var report = CheckReport()
        let version = try schemaVersion()
        if version != PostgresMigrations.latestVersion {
            report.problems.append("schema version \(version), expected \(PostgresMigrations.latestVersion): open it with `vigil init`")
        }
        func count(_ sql: String) throws -> Int { Int(try session.query(sql).first?.int("n") ?? 0) }
        report.events = try count("SELECT COUNT(*) AS n FROM events")
        report.alerts = try count("SELECT COUNT(*) AS n FROM alerts")
        report.imports = try count("SELECT COUNT(*) AS n FROM imports")
        let checks: [(String, String)] = [
            ("events whose import is missing", "SELECT COUNT(*) AS n FROM events e WHERE e.import_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = e.import_id)"),
            // One pass over events, not one per machine (events has no index on machine_id).
            ("machines whose event count is not their events'", """
                SELECT COUNT(*) AS n FROM machines m LEFT JOIN (SELECT machine_id, COUNT(*) AS stored FROM events GROUP BY machine_id) e
                    ON e.machine_id = m.id
                WHERE m.event_count <> COALESCE(e.stored, 0)
                """),
            ("days, severities and integrations whose alert_counts disagree with the alerts", """
                SELECT COUNT(*) AS n FROM (
                    SELECT day, severity, integration FROM (
                        SELECT day, severity, integration, count AS n FROM alert_counts
                        UNION ALL SELECT last_event_time / 86400000000, severity, integration, -1 FROM alerts) t
                    GROUP BY day, severity, integration HAVING SUM(n) <> 0) d
                """),
            ("alert links to events that are gone", """
                SELECT COUNT(*) AS n FROM alert_events l WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = l.event_id)
                """),
        ]
        for (what, sql) in checks {
            let found = try count(sql)
            if found > 0 { report.problems.append("\(found) \(what)") }
        }
        return report
    }
}

extension PostgresStore {
    /// Lets login role `role` read the hunting views (and call their functions), and nothing
    /// else of the store: hunting SQL runs as that role (`PostgresHuntingQuery`). Audited.
    public func grantHunting(to role: String, actor: String) throws {
        guard role.utf8.count <= 63, let first = role.unicodeScalars.first, first == "_" || ("a"..."z").contains(first),
              role.unicodeScalars.allSatisfy({ $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else {
            throw StoreError(.invalidValue, "a hunting role is 1 to 63 lowercase letters, digits and '_', starting with a letter or '_'")
        }
        let exists = try session.query("SELECT COUNT(*) AS n FROM pg_roles WHERE rolname = $1", [role]).first?.int("n") ?? 0
        guard exists == 1 else {
            throw StoreError(.notFound, "there is no role \(role); create it first (CREATE ROLE \(role) LOGIN PASSWORD '…')")
        }
        try session.transaction {
            try session.execute("GRANT USAGE ON SCHEMA hunting TO \"\(role)\"")
            try session.execute("GRANT SELECT ON ALL TABLES IN SCHEMA hunting TO \"\(role)\"")
            try session.execute("GRANT EXECUTE ON FUNCTION hunting.iso8601(BIGINT), hunting.field(TEXT, TEXT) TO \"\(role)\"")
            try appendAudit(actor: actor, action: "hunting.grant", target: "role:\(role)", details: "")
        }
    }
}
