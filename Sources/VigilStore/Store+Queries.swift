import VigilModel

/// `text` for a LIKE pattern with `ESCAPE '\'`: its `%` and `_` match only themselves.
package func likeLiteral(_ text: String) -> String {
    var escaped = ""
    for character in text {
        if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
        escaped.append(character)
    }
    return escaped
}

extension Store {
    /// Alerts from `alert_view`, sorted and paged (at most `AlertFilter.pageCap` per page).
    /// Every filter is a bound parameter; the sort column comes from a closed set.
    public func alerts(_ filter: AlertFilter) throws -> [AlertRow] {
        var (whereClause, values) = filter.whereClause()
        values.append(min(max(filter.limit, 1), AlertFilter.pageCap))
        values.append(max(filter.offset, 0))
        let direction = filter.ascending ? "ASC" : "DESC"
        let sql = """
            SELECT \(Self.alertColumns)
            FROM alert_view \(whereClause) ORDER BY \(filter.sort.rawValue) \(direction), id \(direction) LIMIT ? OFFSET ?
            """
        return try connection.statement(sql).bind(values).rows(Self.alertRow)
    }

    /// The `alert_view` columns `alertRow` decodes.
    static let alertColumns = """
        id, rule_id, title, severity, status, classification, determination, assigned_to, event_count,
        first_event_time, last_event_time, created_at, incident_id, integration, machine_id, hostname,
        os_platform, os_version, author, techniques, matched_fields, description, previous_alert_id
        """

    static func alertRow(_ row: Row) -> AlertRow {
        AlertRow(
            id: row.int("id"), ruleID: row.text("rule_id"), title: row.text("title"),
            severity: Severity(rawValue: Int(row.int("severity"))) ?? .informational, status: row.text("status"),
            classification: row.optionalText("classification"), determination: row.optionalText("determination"),
            assignedTo: row.optionalText("assigned_to"), eventCount: row.int("event_count"), firstEventTime: row.time("first_event_time"),
            lastEventTime: row.time("last_event_time"), createdAt: row.time("created_at"), incidentID: row.optionalInt("incident_id"),
            integration: row.text("integration"), machineID: row.int("machine_id"), hostname: row.text("hostname"),
            osPlatform: row.text("os_platform"), osVersion: row.optionalText("os_version"), author: row.text("author"),
            techniques: row.text("techniques").split(separator: ",").map(String.init), matchedFields: row.text("matched_fields"),
            description: row.text("description"), previousAlertID: row.optionalInt("previous_alert_id"))
    }

    /// Alert counts by severity and OS platform, for the same filters.
    public func alertSummary(_ filter: AlertFilter) throws -> [(severity: Severity, platform: String, count: Int)] {
        let (whereClause, values) = filter.whereClause()
        return try connection.statement("SELECT severity, os_platform, COUNT(*) AS count FROM alert_view \(whereClause) GROUP BY severity, os_platform ORDER BY severity DESC, os_platform")
            .bind(values).rows { (Severity(rawValue: Int($0.int("severity"))) ?? .informational, $0.text("os_platform"), Int($0.int("count"))) }
    }

    /// The machine list's query, for a condition on `m`: event and alert counts are kept on the
    /// machine (never counted from the events or alerts tables).
    static func machineListSQL(where condition: String = "1") -> String {
        """
        SELECT m.id, m.hostname, m.os_platform, m.os_version, m.first_seen, m.last_seen, m.last_integration, m.event_count, m.alert_count,
            (SELECT COUNT(*) FROM machine_integrations mi JOIN integrations i ON i.name = mi.integration
                WHERE mi.machine_id = m.id AND i.enabled = 1) AS active_integrations,
            (SELECT group_concat(c.os_platform || CASE WHEN c.os_version = '' THEN '' ELSE ' ' || c.os_version END
                || ' via ' || c.integration, '; ') FROM machine_claims c WHERE c.machine_id = m.id) AS review
        FROM machines m WHERE \(condition) ORDER BY m.hostname
        """
    }

    /// Machines by host name, with their event and alert counts, OS support and activity: all
    /// of them, or at most `limit` whose host names sort after `after`.
    public func machines(after: String?, limit: Int?) throws -> [MachineRow] {
        let condition = after == nil ? "1" : "m.hostname > ?"
        let values: [(any SQLValue)?] = (after.map { [$0] } ?? []) + [limit ?? -1]
        return try machineRows(Self.machineListSQL(where: condition) + " LIMIT ?", values)
    }

    /// One machine as the machine list shows it; nil when there is none.
    public func machine(id: Int64) throws -> MachineRow? {
        try machineRows(Self.machineListSQL(where: "m.id = ?"), [id]).first
    }

    private func machineRows(_ sql: String, _ values: [(any SQLValue)?]) throws -> [MachineRow] {
        let list = try compatibility()
        return try connection.statement(sql).bind(values).rows { row in
            let platform = row.text("os_platform")
            let version = row.optionalText("os_version")
            return MachineRow(
                id: row.int("id"), hostname: row.text("hostname"), osPlatform: platform, osVersion: version,
                firstSeen: row.time("first_seen"), lastSeen: row.time("last_seen"),
                lastIntegration: row.optionalText("last_integration"), eventCount: row.int("event_count"), alertCount: row.int("alert_count"),
                supported: version.map { Compatibility.isSupported(platform: platform, version: $0, list: list) },
                active: row.int("active_integrations") > 0, review: row.optionalText("review"))
        }
    }

    /// Stored events, newest first.
    public func events(_ filter: EventFilter) throws -> [EventRow] {
        var conditions: [String] = []
        var values: [(any SQLValue)?] = []
        if let machine = filter.machine { conditions.append("m.hostname = ? COLLATE NOCASE"); values.append(machine) }
        if let machineID = filter.machineID { conditions.append("e.machine_id = ?"); values.append(machineID) }
        if let category = filter.category { conditions.append("e.category = ?"); values.append(category.lowercased()) }
        if let since = filter.since { conditions.append("e.time >= ?"); values.append(since.microseconds) }
        if let until = filter.until { conditions.append("e.time <= ?"); values.append(until.microseconds) }
        if let after = filter.after {
            conditions.append("(e.time < ? OR (e.time = ? AND e.id < ?))")
            values += [after.time.microseconds, after.time.microseconds, after.id]
        }
        values.append(filter.limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try connection.statement("""
            SELECT \(Self.eventColumns)
            FROM events e JOIN machines m ON m.id = e.machine_id \(whereClause)
            ORDER BY e.time DESC, e.id DESC LIMIT ?
            """).bind(values).rows(Self.eventRow)
    }

    /// One machine's events matching `filter`, newest first, each with the alerts it is
    /// evidence of; nil when there is no machine `machineID`.
    public func timeline(machineID: Int64, _ filter: EventFilter) throws -> [TimelineEntry]? {
        let known = try connection.statement("SELECT 1 AS known FROM machines WHERE id = ?").bind([machineID]).firstRow { _ in true }
        guard known == true else { return nil }
        var filter = filter
        filter.machineID = machineID
        filter.machine = nil
        let events = try events(filter)
        guard !events.isEmpty else { return [] }
        var alertsByEvent: [Int64: [TimelineEntry.Alert]] = [:]
        let placeholders = Array(repeating: "?", count: events.count).joined(separator: ",")
        try connection.statement("""
            SELECT ae.event_id, a.id, a.title, a.severity, a.status
            FROM alert_events ae JOIN alerts a ON a.id = ae.alert_id
            WHERE ae.event_id IN (\(placeholders)) ORDER BY a.id
            """).bind(events.map { $0.id as (any SQLValue)? }).forEachRow { row in
            alertsByEvent[row.int("event_id"), default: []].append(TimelineEntry.Alert(
                id: row.int("id"), title: row.text("title"), severity: Severity(rawValue: Int(row.int("severity"))) ?? .informational,
                status: row.text("status")))
        }
        return events.map { TimelineEntry(event: $0, alerts: alertsByEvent[$0.id] ?? []) }
    }

    /// The columns `eventRow` decodes, from `events e` joined with `machines m`.
    static let eventColumns = """
        e.id, e.time, m.hostname, m.os_platform, e.product, e.category, e.service, e.source_format, e.integration, e.fields, e.raw, e.line
        """

    static func eventRow(_ row: Row) -> EventRow {
        EventRow(id: row.int("id"), time: row.time("time"), hostname: row.text("hostname"), osPlatform: row.text("os_platform"),
                 product: row.optionalText("product"), category: row.optionalText("category"), service: row.optionalText("service"),
                 sourceFormat: row.text("source_format"), integration: row.text("integration"), fieldsJSON: row.text("fields"),
                 raw: row.text("raw"), line: row.optionalInt("line"))
    }

    /// Row counts of the main tables, for tests and `vigil demo`.
    public func count(_ table: CountedTable) throws -> Int {
        try connection.statement("SELECT COUNT(*) AS count FROM \(table.rawValue)").firstRow { Int($0.int("count")) } ?? 0
    }

    /// Tables whose rows `count(_:)` reports (a closed set: table names are never user text).
    public enum CountedTable: String, Sendable {
        case events, alerts, machines, rejectedRecords = "rejected_records", imports, alertEvents = "alert_events", auditLog = "audit_log"
    }
}
