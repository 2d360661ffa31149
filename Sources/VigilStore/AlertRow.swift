import VigilModel

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

    /// Every column, as a store reads them.
    package init(id: Int64, ruleID: String, title: String, severity: Severity, status: String, classification: String? = nil, determination: String? = nil, assignedTo: String? = nil, eventCount: Int64, firstEventTime: Timestamp, lastEventTime: Timestamp, createdAt: Timestamp, incidentID: Int64? = nil, integration: String, machineID: Int64, hostname: String, osPlatform: String, osVersion: String? = nil, author: String, techniques: [String], matchedFields: String, description: String, previousAlertID: Int64? = nil) {
        self.id = id
        self.ruleID = ruleID
        self.title = title
        self.severity = severity
        self.status = status
        self.classification = classification
        self.determination = determination
        self.assignedTo = assignedTo
        self.eventCount = eventCount
        self.firstEventTime = firstEventTime
        self.lastEventTime = lastEventTime
        self.createdAt = createdAt
        self.incidentID = incidentID
        self.integration = integration
        self.machineID = machineID
        self.hostname = hostname
        self.osPlatform = osPlatform
        self.osVersion = osVersion
        self.author = author
        self.techniques = techniques
        self.matchedFields = matchedFields
        self.description = description
        self.previousAlertID = previousAlertID
    }
}

extension AlertRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, ruleID = "rule_id", title, severity, status, classification, determination, assignedTo = "assigned_to"
        case machineID = "machine_id", hostname, osPlatform = "os_platform", osVersion = "os_version", eventCount = "event_count"
        case firstEventTime = "first_event_time", lastEventTime = "last_event_time", createdAt = "created_at", incidentID = "incident_id"
        case integration, author, techniques = "mitre_techniques", matchedFields = "matched_fields", previousAlertID = "previous_alert_id"
    }

    /// The alert as the CLI and the API show it (`description` only in the alert's detail).
    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(id, forKey: .id)
        try row.encode(ruleID, forKey: .ruleID)
        try row.encode(title, forKey: .title)
        try row.encode(severity.name, forKey: .severity)
        try row.encode(status, forKey: .status)
        try row.encode(classification, forKey: .classification)
        try row.encode(determination, forKey: .determination)
        try row.encode(assignedTo, forKey: .assignedTo)
        try row.encode(machineID, forKey: .machineID)
        try row.encode(hostname, forKey: .hostname)
        try row.encode(osPlatform, forKey: .osPlatform)
        try row.encode(osVersion, forKey: .osVersion)
        try row.encode(eventCount, forKey: .eventCount)
        try row.encode(firstEventTime, forKey: .firstEventTime)
        try row.encode(lastEventTime, forKey: .lastEventTime)
        try row.encode(createdAt, forKey: .createdAt)
        try row.encode(incidentID, forKey: .incidentID)
        try row.encode(integration, forKey: .integration)
        try row.encode(author, forKey: .author)
        try row.encode(techniques, forKey: .techniques)
        try row.encode(JSONValue(parsing: matchedFields), forKey: .matchedFields)
        try row.encode(previousAlertID, forKey: .previousAlertID)
    }
}
