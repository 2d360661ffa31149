import VigilModel

/// Filters, sorting and paging for the unified alert view; nil means no filter.
public struct AlertFilter: Sendable {
    public enum Sort: String, Sendable, CaseIterable {
        case lastEvent = "last_event_time", firstEvent = "first_event_time", created = "created_at", severity, eventCount = "event_count", id
    }

    /// The largest page any query returns.
    public static let pageCap = 1000

    public var platform: OSPlatform?
    public var minimumSeverity: Severity?
    /// Exactly these severities (`--severity-in high,critical`).
    public var severities: Set<Severity>?
    public var status: String?
    public var classification: String?
    public var since: Timestamp?
    public var until: Timestamp?
    public var firstSince: Timestamp?
    public var firstUntil: Timestamp?
    public var createdSince: Timestamp?
    public var createdUntil: Timestamp?
    /// Hostname, or machine id as digits.
    public var machine: String?
    /// Rule id or title.
    public var rule: String?
    /// A MITRE ATT&CK technique id; `T1059` also matches its sub-techniques.
    public var technique: String?
    public var integration: String?
    public var incident: Int64?
    /// Words searched in the title and the rule's description.
    public var text: String?
    public var sort: Sort = .lastEvent
    public var ascending = false
    public var limit: Int = 100
    public var offset: Int = 0

    public init(platform: OSPlatform? = nil, minimumSeverity: Severity? = nil, status: String? = nil,
                since: Timestamp? = nil, until: Timestamp? = nil, machine: String? = nil, rule: String? = nil,
                sort: Sort = .lastEvent, limit: Int = 100) {
        self.sort = sort
        self.platform = platform
        self.minimumSeverity = minimumSeverity
        self.status = status
        self.since = since
        self.until = until
        self.machine = machine
        self.rule = rule
        self.limit = limit
    }

    /// The WHERE clause and its bound values.
    func whereClause() -> (sql: String, values: [(any SQLValue)?]) {
        var conditions: [String] = []
        var values: [(any SQLValue)?] = []
        func add(_ condition: String, _ bound: (any SQLValue)...) {
            conditions.append(condition)
            values += bound.map { Optional($0) }
        }
        if let platform { add("os_platform = ?", platform.rawValue) }
        if let minimumSeverity { add("severity >= ?", minimumSeverity.rawValue) }
        if let severities, !severities.isEmpty {
            conditions.append("severity IN (" + severities.map { _ in "?" }.joined(separator: ",") + ")")
            values += severities.map { Optional($0.rawValue) }
        }
        if let status { add("status = ?", status) }
        if let classification { add("classification = ?", classification) }
        if let since { add("last_event_time >= ?", since.microseconds) }
        if let until { add("last_event_time <= ?", until.microseconds) }
        if let firstSince { add("first_event_time >= ?", firstSince.microseconds) }
        if let firstUntil { add("first_event_time <= ?", firstUntil.microseconds) }
        if let createdSince { add("created_at >= ?", createdSince.microseconds) }
        if let createdUntil { add("created_at <= ?", createdUntil.microseconds) }
        if let machine {
            if let id = Int64(machine) { add("(machine_id = ? OR hostname = ? COLLATE NOCASE)", id, machine) }
            else { add("hostname = ? COLLATE NOCASE", machine) }
        }
        if let rule { add("(rule_id = ? OR title = ?)", rule, rule) }
        if let technique {
            let literal = likeLiteral(technique.uppercased())
            add(#"(',' || techniques || ',' LIKE '%,' || ? || ',%' ESCAPE '\' OR ',' || techniques || ',' LIKE '%,' || ? || '.%' ESCAPE '\')"#, literal, literal)
        }
        if let integration { add("integration = ?", integration) }
        if let incident { add("incident_id = ?", incident) }
        if let text {
            for word in text.split(separator: " ") {
                let literal = likeLiteral(String(word))
                add(#"(title LIKE '%' || ? || '%' ESCAPE '\' OR description LIKE '%' || ? || '%' ESCAPE '\')"#, literal, literal)
            }
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), values)
    }
}

/// `text` for a LIKE pattern with `ESCAPE '\'`: its `%` and `_` match only themselves.
func likeLiteral(_ text: String) -> String {
    var escaped = ""
    for character in text {
        if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
        escaped.append(character)
    }
    return escaped
}

/// One row of `alert_view`.
public struct AlertRow: Sendable {
    public var id: Int64
    public var ruleID: String
    public var title: String
    public var severity: Severity
    public var status: String
    public var classification: String?
    public var determination: String?
    public var assignedTo: String?
    public var eventCount: Int64
    public var firstEventTime: Timestamp
    public var lastEventTime: Timestamp
    public var createdAt: Timestamp
    public var incidentID: Int64?
    public var integration: String
    public var machineID: Int64
    public var hostname: String
    public var osPlatform: String
    public var osVersion: String?
    public var author: String
    public var techniques: [String]
    public var matchedFields: String
    public var description: String
    /// The earlier alert of the same rule, machine and key that this one follows (resolved, or
    /// past the dedupe window).
    public var previousAlertID: Int64?
}

/// One machine.
public struct MachineRow: Sendable {
    public var id: Int64
    public var hostname: String
    public var osPlatform: String
    public var osVersion: String?
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var lastIntegration: String?
    public var eventCount: Int64
    public var alertCount: Int64
    /// Whether the reported OS version is on the compatibility list; nil when the machine reported none.
    public var supported: Bool?
    /// False when every integration the machine reported through is off.
    public var active: Bool
}

/// Filters for `vigil events`.
public struct EventFilter: Sendable {
    public var machine: String?
    public var category: String?
    public var since: Timestamp?
    public var until: Timestamp?
    public var limit: Int = 100

    public init(machine: String? = nil, category: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil, limit: Int = 100) {
        self.machine = machine
        self.category = category
        self.since = since
        self.until = until
        self.limit = limit
    }
}

/// One stored event.
public struct EventRow: Sendable {
    public var id: Int64
    public var time: Timestamp
    public var hostname: String
    public var osPlatform: String
    public var product: String?
    public var category: String?
    public var service: String?
    public var sourceFormat: String
    public var integration: String
    /// The fields as a JSON object.
    public var fieldsJSON: String
    public var raw: String
    public var line: Int64?
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

    /// Every machine, with its event and alert counts, OS support and activity.
    public func machines() throws -> [MachineRow] {
        let list = try compatibility()
        return try connection.statement("""
            SELECT m.id, m.hostname, m.os_platform, m.os_version, m.first_seen, m.last_seen, m.last_integration,
                (SELECT COUNT(*) FROM events e WHERE e.machine_id = m.id) AS event_count,
                (SELECT COUNT(*) FROM alerts a WHERE a.machine_id = m.id) AS alert_count,
                (SELECT COUNT(*) FROM machine_integrations mi JOIN integrations i ON i.name = mi.integration
                    WHERE mi.machine_id = m.id AND i.enabled = 1) AS active_integrations
            FROM machines m ORDER BY m.hostname
            """).rows { row in
            let platform = row.text("os_platform")
            let version = row.optionalText("os_version")
            return MachineRow(
                id: row.int("id"), hostname: row.text("hostname"), osPlatform: platform, osVersion: version,
                firstSeen: row.time("first_seen"), lastSeen: row.time("last_seen"),
                lastIntegration: row.optionalText("last_integration"), eventCount: row.int("event_count"), alertCount: row.int("alert_count"),
                supported: version.map { Compatibility.isSupported(platform: platform, version: $0, list: list) },
                active: row.int("active_integrations") > 0)
        }
    }

    /// Stored events, newest first.
    public func events(_ filter: EventFilter) throws -> [EventRow] {
        var conditions: [String] = []
        var values: [(any SQLValue)?] = []
        if let machine = filter.machine { conditions.append("m.hostname = ? COLLATE NOCASE"); values.append(machine) }
        if let category = filter.category { conditions.append("e.category = ?"); values.append(category.lowercased()) }
        if let since = filter.since { conditions.append("e.time >= ?"); values.append(since.microseconds) }
        if let until = filter.until { conditions.append("e.time <= ?"); values.append(until.microseconds) }
        values.append(filter.limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try connection.statement("""
            SELECT \(Self.eventColumns)
            FROM events e JOIN machines m ON m.id = e.machine_id \(whereClause)
            ORDER BY e.time DESC LIMIT ?
            """).bind(values).rows(Self.eventRow)
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
