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

    /// The WHERE clause in `dialect`, with `?` placeholders (`SQLDialect.placeholders(in:)`
    /// numbers them for PostgreSQL), and their values in order.
    package func whereClause(dialect: SQLDialect) -> (sql: String, values: [SQLParameter]) {
        var conditions: [String] = []
        var values: [SQLParameter] = []
        func add(_ condition: String, _ bound: SQLParameter...) { add(condition, bound) }
        func add(_ condition: String, _ bound: [SQLParameter]) {
            conditions.append(condition)
            values += bound
        }
        if let platform { add("os_platform = ?", .text(platform.rawValue)) }
        if let minimumSeverity { add("severity >= ?", .int(minimumSeverity.rawValue)) }
        if let severities, !severities.isEmpty {
            add("severity IN (" + severities.map { _ in "?" }.joined(separator: ",") + ")", severities.map { .int($0.rawValue) })
        }
        if let status { add("status = ?", .text(status)) }
        if let classification { add("classification = ?", .text(classification)) }
        if let since { add("last_event_time >= ?", .int(since.microseconds)) }
        if let until { add("last_event_time <= ?", .int(until.microseconds)) }
        if let firstSince { add("first_event_time >= ?", .int(firstSince.microseconds)) }
        if let firstUntil { add("first_event_time <= ?", .int(firstUntil.microseconds)) }
        if let createdSince { add("created_at >= ?", .int(createdSince.microseconds)) }
        if let createdUntil { add("created_at <= ?", .int(createdUntil.microseconds)) }
        if let machine {
            let sameHost = dialect.caseInsensitiveEquals("hostname")
            if let id = Int64(machine) { add("(machine_id = ? OR \(sameHost))", .int(id), .text(machine)) }
            else { add(sameHost, .text(machine)) }
        }
        if let rule { add("(rule_id = ? OR title = ?)", .text(rule), .text(rule)) }
        if let technique {
            let literal = SQLParameter.text(likeLiteral(technique.uppercased()))
            add(#"(',' || techniques || ',' LIKE '%,' || ? || ',%' ESCAPE '\' OR ',' || techniques || ',' LIKE '%,' || ? || '.%' ESCAPE '\')"#, literal, literal)
        }
        if let integration { add("integration = ?", .text(integration)) }
        if let incident { add("incident_id = ?", .int(incident)) }
        if let text {
            for word in text.split(separator: " ") {
                let literal = SQLParameter.text(likeLiteral(String(word)))
                add(#"(title LIKE '%' || ? || '%' ESCAPE '\' OR description LIKE '%' || ? || '%' ESCAPE '\')"#, literal, literal)
            }
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), values)
    }

}
