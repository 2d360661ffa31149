import VigilModel

/// One incident with its alert count.
public struct IncidentRow: Sendable {
    public var id: Int64
    public var title: String
    public var severity: Severity
    public var status: String
    public var reason: String
    public var assignedTo: String?
    public var classification: String?
    public var alertCount: Int64
    public var machines: [String]
    public var firstEventTime: Timestamp
    public var lastEventTime: Timestamp
    public var createdAt: Timestamp
}
