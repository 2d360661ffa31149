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
}
