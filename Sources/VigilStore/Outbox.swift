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
