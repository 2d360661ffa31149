import VigilModel
import VigilStore

/// Fills a store with synthetic alerts, for query benchmarks (`Benchmarks/AlertQueries`).
public enum AlertFixture {
    /// Inserts `alerts` alerts spread over `machines` machines, 40 rules, 5 severities and 3 statuses.
    public static func fill(_ store: Store, alerts: Int, machines: Int) throws {
        let connection = store.connection
        try connection.transaction {
            let machine = try connection.statement("INSERT INTO machines (hostname, os_platform, first_seen, last_seen) VALUES (?, ?, 0, 0)")
            for index in 0..<machines { try machine.bind("host-\(index)", ["linux", "macos", "ios", "android"][index % 4]).run() }
            let rule = try connection.statement("INSERT INTO rules (id, title, level) VALUES (?, ?, 'high')")
            for index in 0..<40 { try rule.bind("rule-\(index)", "Rule \(index)").run() }
            let insert = try connection.statement("""
                INSERT INTO alerts (rule_id, title, severity, status, machine_id, integration, event_count, first_event_time,
                    last_event_time, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'json', 1, ?, ?, ?, ?)
                """)
            for index in 0..<alerts {
                let time = Int64(1_800_000_000 - index * 3) * 1_000_000
                try insert.bind("rule-\(index % 40)", "Rule \(index % 40)", index % 5, ["new", "in_progress", "resolved"][index % 3],
                                index % machines + 1, time, time, time, time).run()
            }
        }
    }
}
