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

    public init(id: Int64, title: String, severity: Severity, status: String, reason: String, assignedTo: String?,
                classification: String?, alertCount: Int64, machines: [String], firstEventTime: Timestamp,
                lastEventTime: Timestamp, createdAt: Timestamp) {
        self.id = id
        self.title = title
        self.severity = severity
        self.status = status
        self.reason = reason
        self.assignedTo = assignedTo
        self.classification = classification
        self.alertCount = alertCount
        self.machines = machines
        self.firstEventTime = firstEventTime
        self.lastEventTime = lastEventTime
        self.createdAt = createdAt
    }
}

extension IncidentRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, title, severity, status, alertCount = "alert_count", machines, firstEventTime = "first_event_time"
        case lastEventTime = "last_event_time", assignedTo = "assigned_to", classification, reason
    }

    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(id, forKey: .id)
        try row.encode(title, forKey: .title)
        try row.encode(severity.name, forKey: .severity)
        try row.encode(status, forKey: .status)
        try row.encode(alertCount, forKey: .alertCount)
        try row.encode(machines.joined(separator: ","), forKey: .machines)
        try row.encode(firstEventTime, forKey: .firstEventTime)
        try row.encode(lastEventTime, forKey: .lastEventTime)
        try row.encode(assignedTo, forKey: .assignedTo)
        try row.encode(classification, forKey: .classification)
        try row.encode(reason, forKey: .reason)
    }
}
