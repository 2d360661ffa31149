import VigilModel

/// What an outbox entry records.
public enum OutboxKind: String, Sendable, CaseIterable, Codable {
    case alertCreated = "alert.created"
    case alertUpdated = "alert.updated"
    case incidentCreated = "incident.created"
    case incidentUpdated = "incident.updated"
}

/// One alert or incident change, appended in the transaction that made it. `id` is its stable
/// event id: a receiver deduplicates on it, and the live stream resumes after it.
public struct OutboxEntry: Sendable {
    public var id: Int64
    public var kind: OutboxKind
    public var alertID: Int64?
    public var incidentID: Int64?
    /// What changed, for updates ("status: new → resolved"); empty for creations.
    public var changes: String
    public var createdAt: Timestamp
    /// The alert or incident as it is when read (not as it was at the change).
    public var alert: AlertRow?
    public var incident: IncidentRow?

    public init(id: Int64, kind: OutboxKind, alertID: Int64? = nil, incidentID: Int64? = nil, changes: String = "",
                createdAt: Timestamp, alert: AlertRow? = nil, incident: IncidentRow? = nil) {
        self.id = id
        self.kind = kind
        self.alertID = alertID
        self.incidentID = incidentID
        self.changes = changes
        self.createdAt = createdAt
        self.alert = alert
        self.incident = incident
    }
}

extension Connection {
    /// Appends a change to the outbox, inside the caller's transaction.
    package func appendOutbox(_ kind: OutboxKind, alertID: Int64? = nil, incidentID: Int64? = nil, changes: String = "") throws(StoreError) {
        try statement("INSERT INTO outbox (kind, alert_id, incident_id, changes, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(kind.rawValue, alertID, incidentID, changes, Timestamp.now().microseconds).run()
    }
}

extension Store {
    /// Outbox entries after `id`, oldest first, each with its alert or incident as it is now.
    public func outbox(after id: Int64, limit: Int) throws -> [OutboxEntry] {
        let entries = try connection.statement("""
            SELECT id, kind, alert_id, incident_id, changes, created_at FROM outbox WHERE id > ? ORDER BY id LIMIT ?
            """).bind(id, limit).rows { row in
                OutboxEntry(id: row.int("id"), kind: OutboxKind(rawValue: row.text("kind")) ?? .alertUpdated,
                            alertID: row.optionalInt("alert_id"), incidentID: row.optionalInt("incident_id"),
                            changes: row.text("changes"), createdAt: row.time("created_at"))
            }
        return try entries.map { entry in
            var entry = entry
            if let id = entry.alertID { entry.alert = try alert(id: id) }
            if let id = entry.incidentID { entry.incident = try incident(id: id) }
            return entry
        }
    }

    /// The newest outbox id (0 when empty): where a new subscription or stream starts.
    public func latestOutboxID() throws -> Int64 {
        try connection.statement("SELECT COALESCE(MAX(id), 0) FROM outbox").firstInteger() ?? 0
    }
}
