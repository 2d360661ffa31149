import PostgresNIO
import VigilModel
import VigilStore

extension PostgresStore: ImportTarget {}

extension PostgresStore {
    /// One page of alerts matching `filter`, from `alert_view`, sorted as it says.
    public func alerts(_ filter: AlertFilter) throws -> [AlertRow] {
        let (whereClause, values) = filter.whereClause(dialect: .postgresql)
        let limit = values.count + 1
        let direction = filter.ascending ? "ASC" : "DESC"
        return try session.query("""
            SELECT id, rule_id, title, severity, status, classification, determination, assigned_to, event_count,
                first_event_time, last_event_time, created_at, incident_id, integration, machine_id, hostname,
                os_platform, os_version, COALESCE(author, '') AS author, COALESCE(techniques, '') AS techniques, matched_fields,
                COALESCE(description, '') AS description, previous_alert_id
            FROM alert_view \(whereClause) ORDER BY \(filter.sort.rawValue) \(direction), id \(direction) LIMIT $\(limit) OFFSET $\(limit + 1)
            """, values.map(\.postgresValue) + [Int64(min(max(filter.limit, 1), AlertFilter.pageCap)), Int64(max(filter.offset, 0))]).map { row in
            AlertRow(
                id: try row.int("id"), ruleID: try row.text("rule_id"), title: try row.text("title"),
                severity: Severity(rawValue: Int(try row.int("severity"))) ?? .informational, status: try row.text("status"),
                classification: try row.optionalText("classification"), determination: try row.optionalText("determination"),
                assignedTo: try row.optionalText("assigned_to"), eventCount: try row.int("event_count"),
                firstEventTime: try row.time("first_event_time"), lastEventTime: try row.time("last_event_time"),
                createdAt: try row.time("created_at"), incidentID: try row.optionalInt("incident_id"),
                integration: try row.text("integration"), machineID: try row.int("machine_id"), hostname: try row.text("hostname"),
                osPlatform: try row.text("os_platform"), osVersion: try row.optionalText("os_version"), author: try row.text("author"),
                techniques: try row.text("techniques").split(separator: ",").map(String.init), matchedFields: try row.text("matched_fields"),
                description: try row.text("description"), previousAlertID: try row.optionalInt("previous_alert_id"))
        }
    }

    /// Alert counts by severity and OS platform, for the same filters.
    public func alertSummary(_ filter: AlertFilter) throws -> [(severity: Severity, platform: String, count: Int)] {
        let (whereClause, values) = filter.whereClause(dialect: .postgresql)
        return try session.query("""
            SELECT severity, os_platform, COUNT(*) AS count FROM alert_view \(whereClause)
            GROUP BY severity, os_platform ORDER BY severity DESC, os_platform
            """, values.map(\.postgresValue)).map {
            (Severity(rawValue: Int(try $0.int("severity"))) ?? .informational, try $0.text("os_platform"), Int(try $0.int("count")))
        }
    }

    /// The latest version of every rule added with `vigil rules add`.
    public func storedRules() throws -> [StoredRule] {
        try session.query("""
            SELECT DISTINCT ON (rule_id) rule_id, version, title, source, text, added_at, actor FROM stored_rules ORDER BY rule_id, version DESC
            """).map {
            StoredRule(ruleID: try $0.text("rule_id"), version: Int(try $0.int("version")), title: try $0.text("title"), source: try $0.text("source"),
                       text: try $0.text("text"), addedAt: try $0.time("added_at"), actor: try $0.text("actor"))
        }
    }

    /// The rules turned off with `vigil rules disable`.
    public func disabledRuleIDs() throws -> Set<String> {
        Set(try session.query("SELECT rule_id FROM rule_overrides WHERE enabled = 0").map { try $0.text("rule_id") })
    }

    /// Holds the correlator role for as long as this store's connection lives (or until
    /// `releaseCorrelator`): one import or node at a time keeps the correlation windows.
    /// Waits for the holder when `wait`; otherwise says whether the role was free.
    @discardableResult
    public func acquireCorrelator(wait: Bool) throws -> Bool {
        if wait {
            try session.execute("SELECT pg_advisory_lock($1)", [Self.correlatorLock])
            return true
        }
        return try session.query("SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END::int8 AS held", [Self.correlatorLock])
            .first?.int("held") == 1
    }

    /// The advisory lock of the correlator role ("VIGILCOR" in ASCII).
    static let correlatorLock: Int64 = 0x5649_4749_4C43_4F52
}

extension SQLParameter {
    var postgresValue: (any PostgresDynamicTypeEncodable)? {
        switch self {
        case .int(let number): number
        case .text(let text): storable(text)
        }
    }
}
