import VigilModel

/// Alert counts per day and severity, for the dashboard's chart.
public struct AlertTrendPoint: Sendable, Equatable {
    /// Midnight UTC of the day, in microseconds.
    public var day: Int64
    public var severity: Severity
    public var count: Int
}

/// Every stored alert counted three ways, for the dashboard.
public struct AlertTotals: Sendable {
    public var bySeverity: [Severity: Int] = [:]
    /// Largest first.
    public var byPlatform: [(platform: String, count: Int)] = []
    /// Largest first.
    public var byIntegration: [(integration: String, count: Int)] = []
}

extension Store {
    /// Alerts whose last event falls in the `days` days up to `now`, counted per UTC day and
    /// severity, from the counts kept at write time (`alert_counts`).
    public func alertTrend(days: Int, now: Timestamp = .now()) throws -> [AlertTrendPoint] {
        let day: Int64 = 86_400_000_000
        return try connection.statement("""
            SELECT day, severity, SUM(count) AS count FROM alert_counts
            WHERE day >= ? GROUP BY day, severity HAVING SUM(count) > 0 ORDER BY day, severity
            """).bind(now.microseconds / day - Int64(days - 1)).rows {
                AlertTrendPoint(day: $0.int("day") * day, severity: Severity(rawValue: Int($0.int("severity"))) ?? .informational, count: Int($0.int("count")))
            }
    }

    /// Alerts matching `filter` per severity, each counted up to `cap`: a count of `cap` means
    /// at least that many. Each severity is one query through the `alerts_severity` index that
    /// stops at `cap` rows, so counting a page's filters never scans the whole store (the
    /// alert queue's counts on 1M alerts: 1–46 ms per severity, against 2 s for full counts).
    public func alertCountsBySeverity(_ filter: AlertFilter, cap: Int) throws -> [Severity: Int] {
        var counts: [Severity: Int] = [:]
        for severity in Severity.allCases {
            var one = filter
            one.minimumSeverity = nil
            one.severities = [severity]
            guard filter.minimumSeverity.map({ severity >= $0 }) ?? true, filter.severities?.contains(severity) ?? true else { continue }
            var (whereClause, values) = one.whereClause()
            values.append(cap)
            counts[severity] = try connection.statement("SELECT COUNT(*) AS count FROM (SELECT 1 FROM alert_view \(whereClause) LIMIT ?)")
                .bind(values).firstRow { Int($0.int("count")) } ?? 0
        }
        return counts
    }

    /// Every alert counted per severity, per OS and per integration, from the counts kept at
    /// write time (`alert_counts` and `machines.alert_count`): it reads a few thousand rows
    /// however many alerts are stored.
    public func alertTotals() throws -> AlertTotals {
        var totals = AlertTotals()
        let perSeverity = try connection.statement("SELECT severity, SUM(count) AS count FROM alert_counts GROUP BY severity")
            .rows { (Severity(rawValue: Int($0.int("severity"))), Int($0.int("count"))) }
        for case let (severity?, count) in perSeverity { totals.bySeverity[severity] = count }
        totals.byPlatform = try connection.statement("""
            SELECT os_platform, SUM(alert_count) AS count FROM machines GROUP BY os_platform HAVING SUM(alert_count) > 0
            ORDER BY count DESC, os_platform
            """).rows { ($0.text("os_platform"), Int($0.int("count"))) }
        totals.byIntegration = try connection.statement("""
            SELECT integration, SUM(count) AS count FROM alert_counts GROUP BY integration HAVING SUM(count) > 0
            ORDER BY count DESC, integration
            """).rows { ($0.text("integration"), Int($0.int("count"))) }
        return totals
    }

    /// The newest EICAR alert (the built-in rule) with evidence that arrived at or after
    /// `since`, from the machine `machine` (a host name, any case) or any; nil until one has.
    /// An alert folding a new EICAR detection into an open one counts: its new event arrived.
    public func detectionTestAlert(since: Timestamp, machine: String?) throws -> AlertRow? {
        try connection.statement("""
            SELECT \(Self.alertColumns) FROM alert_view a
            WHERE a.rule_id = ? AND (? IS NULL OR a.hostname = ? COLLATE NOCASE) AND EXISTS (
                SELECT 1 FROM alert_events ae JOIN events e ON e.id = ae.event_id JOIN imports i ON i.id = e.import_id
                WHERE ae.alert_id = a.id AND i.started_at >= ?)
            ORDER BY a.id DESC LIMIT 1
            """).bind(EICAR.ruleID, machine, machine, since.microseconds).firstRow(Self.alertRow)
    }
}
