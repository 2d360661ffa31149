import VigilModel

/// The alert queries, written once for both stores: each `?` is bound, and the few places
/// where SQLite and PostgreSQL differ (case-insensitive host names, joining text in a group)
/// ask the store's `dialect`. Sums are cast to BIGINT, which PostgreSQL would otherwise return
/// as numeric.
extension AlertQueries where Self: SQLReader {
    /// Alerts from `alert_view`, sorted and paged (at most `AlertFilter.pageCap` per page).
    /// Every filter is a bound parameter; the sort column comes from a closed set.
    public func alerts(_ filter: AlertFilter) throws -> [AlertRow] {
        let (whereClause, values) = filter.whereClause(dialect: dialect)
        let direction = filter.ascending ? "ASC" : "DESC"
        return try read("""
            SELECT \(AlertRow.sqlColumns)
            FROM alert_view \(whereClause) ORDER BY \(filter.sort.rawValue) \(direction), id \(direction) LIMIT ? OFFSET ?
            """, values + [.int(min(max(filter.limit, 1), AlertFilter.pageCap)), .int(max(filter.offset, 0))], AlertRow.init(row:))
    }

    /// Alert counts by severity and OS platform, for the same filters.
    public func alertSummary(_ filter: AlertFilter) throws -> [(severity: Severity, platform: String, count: Int)] {
        let (whereClause, values) = filter.whereClause(dialect: dialect)
        return try read("""
            SELECT severity, os_platform, COUNT(*) AS count FROM alert_view \(whereClause)
            GROUP BY severity, os_platform ORDER BY severity DESC, os_platform
            """, values) { (try $0.severity("severity"), try $0.text("os_platform"), Int(try $0.int("count"))) }
    }

    /// One alert, or nil.
    public func alert(id: Int64) throws -> AlertRow? {
        try readFirst("SELECT \(AlertRow.sqlColumns) FROM alert_view WHERE id = ?", [.int(id)], AlertRow.init(row:))
    }

    /// The alerts that follow `id` (opened by a detection after it was resolved or past its window).
    public func laterAlertIDs(following id: Int64) throws -> [Int64] {
        try read("SELECT id FROM alerts WHERE previous_alert_id = ? ORDER BY id", [.int(id)]) { try $0.int("id") }
    }

    /// The events linked to an alert, oldest first.
    public func alertEvents(id: Int64, limit: Int = 100) throws -> [EventRow] {
        try read("""
            SELECT \(EventRow.sqlColumns)
            FROM alert_events ae JOIN events e ON e.id = ae.event_id JOIN machines m ON m.id = e.machine_id
            WHERE ae.alert_id = ? ORDER BY e.time, e.id LIMIT ?
            """, [.int(id), .int(limit)], EventRow.init(row:))
    }

    /// Comments on an alert or incident, oldest first.
    public func comments(alertID: Int64? = nil, incidentID: Int64? = nil) throws -> [CommentRow] {
        let alert = alertID == nil ? "alert_id IS NULL" : "alert_id = ?"
        let incident = incidentID == nil ? "incident_id IS NULL" : "incident_id = ?"
        return try read("SELECT author, text, created_at FROM comments WHERE \(alert) AND \(incident) ORDER BY id",
                        [alertID, incidentID].compactMap { $0.map(SQLParameter.int) }) {
            CommentRow(author: try $0.text("author"), text: try $0.text("text"), createdAt: try $0.time("created_at"))
        }
    }

    /// Incidents, newest activity first.
    public func incidents(status: String? = nil, minimumSeverity: Severity? = nil, limit: Int = 100) throws -> [IncidentRow] {
        var conditions: [String] = []
        var values: [SQLParameter] = []
        if let status { conditions.append("n.status = ?"); values.append(.text(status)) }
        if let minimumSeverity { conditions.append("n.severity >= ?"); values.append(.int(minimumSeverity.rawValue)) }
        values.append(.int(min(max(limit, 0), AlertFilter.pageCap)))
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try read("""
            SELECT \(IncidentRow.sqlColumns(dialect)) FROM incidents n \(whereClause) ORDER BY n.last_event_time DESC, n.id DESC LIMIT ?
            """, values, IncidentRow.init(row:))
    }

    /// One incident, or nil.
    public func incident(id: Int64) throws -> IncidentRow? {
        try readFirst("SELECT \(IncidentRow.sqlColumns(dialect)) FROM incidents n WHERE n.id = ?", [.int(id)], IncidentRow.init(row:))
    }

    /// Machines by host name, with their event and alert counts, OS support and activity: all
    /// of them, or at most `limit` whose host names sort after `after`.
    public func machines(after: String?, limit: Int?) throws -> [MachineRow] {
        let values: [SQLParameter] = (after.map { [.text($0)] } ?? []) + [.int(Int64(limit ?? Int.max))]
        return try machineRows(MachineRow.listSQL(dialect, where: after == nil ? "TRUE" : "m.hostname > ?") + " LIMIT ?", values)
    }

    /// One machine as the machine list shows it; nil when there is none.
    public func machine(id: Int64) throws -> MachineRow? {
        try machineRows(MachineRow.listSQL(dialect, where: "m.id = ?"), [.int(id)]).first
    }

    private func machineRows(_ sql: String, _ values: [SQLParameter]) throws -> [MachineRow] {
        // The list's order does not matter here (SQLite's numeric ordering of versions has no PostgreSQL twin).
        let list = try read("SELECT platform, distribution, version, note FROM compatibility", []) {
            CompatibilityRow(platform: try $0.text("platform"), distribution: try $0.text("distribution"),
                             version: try $0.text("version"), note: try $0.text("note"))
        }
        return try read(sql, values) { row in
            let platform = try row.text("os_platform")
            let version = try row.optionalText("os_version")
            return MachineRow(
                id: try row.int("id"), hostname: try row.text("hostname"), osPlatform: platform, osVersion: version,
                firstSeen: try row.time("first_seen"), lastSeen: try row.time("last_seen"),
                lastIntegration: try row.optionalText("last_integration"), eventCount: try row.int("event_count"),
                alertCount: try row.int("alert_count"),
                supported: version.map { Compatibility.isSupported(platform: platform, version: $0, list: list) },
                active: try row.int("active_integrations") > 0, review: try row.optionalText("review"))
        }
    }

    /// Stored events, newest first.
    public func events(_ filter: EventFilter) throws -> [EventRow] {
        var conditions: [String] = []
        var values: [SQLParameter] = []
        if let machine = filter.machine { conditions.append(dialect.caseInsensitiveEquals("m.hostname")); values.append(.text(machine)) }
        if let machineID = filter.machineID { conditions.append("e.machine_id = ?"); values.append(.int(machineID)) }
        if let category = filter.category { conditions.append("e.category = ?"); values.append(.text(category.lowercased())) }
        if let since = filter.since { conditions.append("e.time >= ?"); values.append(.int(since.microseconds)) }
        if let until = filter.until { conditions.append("e.time <= ?"); values.append(.int(until.microseconds)) }
        if let after = filter.after {
            conditions.append("(e.time < ? OR (e.time = ? AND e.id < ?))")
            values += [.int(after.time.microseconds), .int(after.time.microseconds), .int(after.id)]
        }
        values.append(.int(filter.limit))
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try read("""
            SELECT \(EventRow.sqlColumns)
            FROM events e JOIN machines m ON m.id = e.machine_id \(whereClause)
            ORDER BY e.time DESC, e.id DESC LIMIT ?
            """, values, EventRow.init(row:))
    }

    /// One machine's events matching `filter`, newest first, each with the alerts it is
    /// evidence of; nil when there is no machine `machineID`.
    public func timeline(machineID: Int64, _ filter: EventFilter) throws -> [TimelineEntry]? {
        guard try readFirst("SELECT id FROM machines WHERE id = ?", [.int(machineID)], { try $0.int("id") }) != nil else { return nil }
        var filter = filter
        filter.machineID = machineID
        filter.machine = nil
        let events = try events(filter)
        guard !events.isEmpty else { return [] }
        var alertsByEvent: [Int64: [TimelineEntry.Alert]] = [:]
        let placeholders = Array(repeating: "?", count: events.count).joined(separator: ",")
        let links = try read("""
            SELECT ae.event_id, a.id, a.title, a.severity, a.status
            FROM alert_events ae JOIN alerts a ON a.id = ae.alert_id
            WHERE ae.event_id IN (\(placeholders)) ORDER BY a.id
            """, events.map { .int($0.id) }) { row in
            (try row.int("event_id"), TimelineEntry.Alert(id: try row.int("id"), title: try row.text("title"),
                                                            severity: try row.severity("severity"), status: try row.text("status")))
        }
        for (event, alert) in links { alertsByEvent[event, default: []].append(alert) }
        return events.map { TimelineEntry(event: $0, alerts: alertsByEvent[$0.id] ?? []) }
    }

    /// Alerts whose last event falls in the `days` days up to `now`, counted per UTC day and
    /// severity, from the counts kept at write time (`alert_counts`).
    public func alertTrend(days: Int, now: Timestamp = .now()) throws -> [AlertTrendPoint] {
        let day: Int64 = 86_400_000_000
        return try read("""
            SELECT day, severity, CAST(SUM(count) AS BIGINT) AS count FROM alert_counts
            WHERE day >= ? GROUP BY day, severity HAVING SUM(count) > 0 ORDER BY day, severity
            """, [.int(now.microseconds / day - Int64(days - 1))]) {
            AlertTrendPoint(day: try $0.int("day") * day, severity: try $0.severity("severity"), count: Int(try $0.int("count")))
        }
    }

    /// Alerts matching `filter` per severity, each counted up to `cap`: a count of `cap` means
    /// at least that many. Each severity is one query through the `alerts_severity` index that
    /// stops at `cap` rows, so counting a page's filters never scans the whole store (the
    /// alert queue's counts on 1M alerts: 1–46 ms per severity, against 2 s for full counts).
    public func alertCountsBySeverity(_ filter: AlertFilter, cap: Int) throws -> [Severity: Int] {
        var counts: [Severity: Int] = [:]
        for severity in Severity.allCases {
            guard filter.minimumSeverity.map({ severity >= $0 }) ?? true, filter.severities?.contains(severity) ?? true else { continue }
            var one = filter
            one.minimumSeverity = nil
            one.severities = [severity]
            let (whereClause, values) = one.whereClause(dialect: dialect)
            counts[severity] = try readFirst("SELECT COUNT(*) AS count FROM (SELECT 1 FROM alert_view \(whereClause) LIMIT ?) AS capped",
                                             values + [.int(cap)]) { Int(try $0.int("count")) } ?? 0
        }
        return counts
    }

    /// Every alert counted per severity, per OS and per integration, from the counts kept at
    /// write time (`alert_counts` and `machines.alert_count`): it reads a few thousand rows
    /// however many alerts are stored.
    public func alertTotals() throws -> AlertTotals {
        var totals = AlertTotals()
        let perSeverity = try read("SELECT severity, CAST(SUM(count) AS BIGINT) AS count FROM alert_counts GROUP BY severity", []) {
            (Severity(rawValue: Int(try $0.int("severity"))), Int(try $0.int("count")))
        }
        for case let (severity?, count) in perSeverity { totals.bySeverity[severity] = count }
        totals.byPlatform = try read("""
            SELECT os_platform, CAST(SUM(alert_count) AS BIGINT) AS count FROM machines GROUP BY os_platform HAVING SUM(alert_count) > 0
            ORDER BY count DESC, os_platform
            """, []) { (try $0.text("os_platform"), Int(try $0.int("count"))) }
        totals.byIntegration = try read("""
            SELECT integration, CAST(SUM(count) AS BIGINT) AS count FROM alert_counts GROUP BY integration HAVING SUM(count) > 0
            ORDER BY count DESC, integration
            """, []) { (try $0.text("integration"), Int(try $0.int("count"))) }
        return totals
    }

    /// The newest EICAR alert (the built-in rule) with evidence that arrived at or after
    /// `since`, from the machine `machine` (a host name, any case) or any; nil until one has.
    /// An alert folding a new EICAR detection into an open one counts: its new event arrived.
    public func detectionTestAlert(since: Timestamp, machine: String?) throws -> AlertRow? {
        let onMachine = machine == nil ? "" : "AND " + dialect.caseInsensitiveEquals("a.hostname")
        return try readFirst("""
            SELECT \(AlertRow.sqlColumns) FROM alert_view a
            WHERE a.rule_id = ? \(onMachine) AND EXISTS (
                SELECT 1 FROM alert_events ae JOIN events e ON e.id = ae.event_id JOIN imports i ON i.id = e.import_id
                WHERE ae.alert_id = a.id AND i.started_at >= ?)
            ORDER BY a.id DESC LIMIT 1
            """, [.text(EICAR.ruleID)] + (machine.map { [.text($0)] } ?? []) + [.int(since.microseconds)], AlertRow.init(row:))
    }

    /// The newest imports first.
    public func imports(limit: Int = 100) throws -> [ImportRow] {
        try read("""
            SELECT id, source, format, integration, started_at, finished_at, records_read, events_stored, rejected,
                duplicates, alerts_raised, status
            FROM imports ORDER BY id DESC LIMIT ?
            """, [.int(limit)]) { row in
            ImportRow(id: try row.int("id"), source: try row.text("source"), format: try row.text("format"),
                      integration: try row.text("integration"), startedAt: try row.time("started_at"),
                      finishedAt: try row.optionalTime("finished_at"), recordsRead: try row.int("records_read"),
                      eventsStored: try row.int("events_stored"), rejected: try row.int("rejected"),
                      duplicates: try row.int("duplicates"), alertsRaised: try row.int("alerts_raised"), status: try row.text("status"))
        }
    }

    /// Rejected records in input order, of one import or of all.
    public func rejectedRecords(importID: Int64?, limit: Int = 1_000) throws -> [RejectedRow] {
        let oneImport = importID == nil ? "" : "WHERE import_id = ?"
        return try read("SELECT import_id, line, reason, raw_prefix FROM rejected_records \(oneImport) ORDER BY id LIMIT ?",
                        (importID.map { [.int($0)] } ?? []) + [.int(limit)]) { row in
            RejectedRow(importID: try row.int("import_id"),
                        record: RejectedRecord(line: Int(try row.int("line")), reason: try row.text("reason"), raw: try row.text("raw_prefix")))
        }
    }
}

extension AlertRow {
    /// The `alert_view` columns `init(row:)` reads.
    static let sqlColumns = """
        id, rule_id, title, severity, status, classification, determination, assigned_to, event_count,
        first_event_time, last_event_time, created_at, incident_id, integration, machine_id, hostname,
        os_platform, os_version, author, techniques, matched_fields, description, previous_alert_id
        """

    init(row: any SQLRow) throws {
        self.init(
            id: try row.int("id"), ruleID: try row.text("rule_id"), title: try row.text("title"), severity: try row.severity("severity"),
            status: try row.text("status"), classification: try row.optionalText("classification"),
            determination: try row.optionalText("determination"), assignedTo: try row.optionalText("assigned_to"),
            eventCount: try row.int("event_count"), firstEventTime: try row.time("first_event_time"),
            lastEventTime: try row.time("last_event_time"), createdAt: try row.time("created_at"),
            incidentID: try row.optionalInt("incident_id"), integration: try row.text("integration"), machineID: try row.int("machine_id"),
            hostname: try row.text("hostname"), osPlatform: try row.text("os_platform"), osVersion: try row.optionalText("os_version"),
            author: try row.text("author"), techniques: try row.text("techniques").split(separator: ",").map(String.init),
            matchedFields: try row.text("matched_fields"), description: try row.text("description"),
            previousAlertID: try row.optionalInt("previous_alert_id"))
    }
}

extension EventRow {
    /// The columns `init(row:)` reads, from `events e` joined with `machines m`.
    static let sqlColumns = """
        e.id, e.time, m.hostname, m.os_platform, e.product, e.category, e.service, e.source_format, e.integration, e.fields, e.raw, e.line
        """

    init(row: any SQLRow) throws {
        self.init(id: try row.int("id"), time: try row.time("time"), hostname: try row.text("hostname"),
                  osPlatform: try row.text("os_platform"), product: try row.optionalText("product"),
                  category: try row.optionalText("category"), service: try row.optionalText("service"),
                  sourceFormat: try row.text("source_format"), integration: try row.text("integration"),
                  fieldsJSON: try row.text("fields"), raw: try row.text("raw"), line: try row.optionalInt("line"))
    }
}

extension IncidentRow {
    /// The columns `init(row:)` reads, from `incidents n`.
    static func sqlColumns(_ dialect: SQLDialect) -> String {
        """
        n.id, n.title, n.severity, n.status, n.reason, n.assigned_to, n.classification,
            (SELECT COUNT(*) FROM alerts a WHERE a.incident_id = n.id) AS alert_count,
            (SELECT \(dialect.joined("m.hostname", separator: ",", distinct: true))
                FROM alerts a JOIN machines m ON m.id = a.machine_id WHERE a.incident_id = n.id) AS machines,
            n.first_event_time, n.last_event_time, n.created_at
        """
    }

    init(row: any SQLRow) throws {
        self.init(id: try row.int("id"), title: try row.text("title"), severity: try row.severity("severity"),
                  status: try row.text("status"), reason: try row.text("reason"), assignedTo: try row.optionalText("assigned_to"),
                  classification: try row.optionalText("classification"), alertCount: try row.int("alert_count"),
                  machines: try row.text("machines").split(separator: ",").map(String.init),
                  firstEventTime: try row.time("first_event_time"), lastEventTime: try row.time("last_event_time"),
                  createdAt: try row.time("created_at"))
    }
}

extension MachineRow {
    /// The machine list's query, for a condition on `m`: event and alert counts are kept on the
    /// machine (never counted from the events or alerts tables).
    static func listSQL(_ dialect: SQLDialect, where condition: String = "TRUE") -> String {
        """
        SELECT m.id, m.hostname, m.os_platform, m.os_version, m.first_seen, m.last_seen, m.last_integration, m.event_count, m.alert_count,
            (SELECT COUNT(*) FROM machine_integrations mi JOIN integrations i ON i.name = mi.integration
                WHERE mi.machine_id = m.id AND i.enabled = 1) AS active_integrations,
            (SELECT \(dialect.joined("c.os_platform || CASE WHEN c.os_version = '' THEN '' ELSE ' ' || c.os_version END || ' via ' || c.integration", separator: "; "))
                FROM machine_claims c WHERE c.machine_id = m.id) AS review
        FROM machines m WHERE \(condition) ORDER BY m.hostname
        """
    }
}
