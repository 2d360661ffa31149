import VigilModel

/// What the CLI, the HTTP API and the web console read: alerts through the alert view, their
/// events, incidents, machines, events and imports. Readers never block the writer.
public protocol AlertQueries: AnyObject {
    /// One page of alerts matching `filter`, sorted as it says.
    func alerts(_ filter: AlertFilter) throws -> [AlertRow]
    /// Alert counts by severity and OS platform for `filter`.
    func alertSummary(_ filter: AlertFilter) throws -> [(severity: Severity, platform: String, count: Int)]
    func alert(id: Int64) throws -> AlertRow?
    /// The alerts opened after `id` for the same rule, machine and key (it was resolved, or its window passed).
    func laterAlertIDs(following id: Int64) throws -> [Int64]
    /// The events an alert links, oldest first.
    func alertEvents(id: Int64, limit: Int) throws -> [EventRow]
    func comments(alertID: Int64?, incidentID: Int64?) throws -> [CommentRow]
    /// Incidents, newest activity first.
    func incidents(status: String?, minimumSeverity: Severity?, limit: Int) throws -> [IncidentRow]
    func incident(id: Int64) throws -> IncidentRow?
    /// Machines by host name: all of them, or `limit` after the host name `after`.
    func machines(after: String?, limit: Int?) throws -> [MachineRow]
    func machine(id: Int64) throws -> MachineRow?
    /// Stored events, newest first.
    func events(_ filter: EventFilter) throws -> [EventRow]
    /// One machine's events, newest first, with the alerts each is evidence of; nil when there is no such machine.
    func timeline(machineID: Int64, _ filter: EventFilter) throws -> [TimelineEntry]?
    /// Alerts per UTC day and severity over the last `days` days.
    func alertTrend(days: Int, now: Timestamp) throws -> [AlertTrendPoint]
    /// Alerts matching `filter` per severity, each counted up to `cap` (a count of `cap` means at least that many).
    func alertCountsBySeverity(_ filter: AlertFilter, cap: Int) throws -> [Severity: Int]
    /// Every alert counted per severity, OS and integration.
    func alertTotals() throws -> AlertTotals
    /// The newest EICAR alert with evidence that arrived since `since`, from `machine` or any.
    func detectionTestAlert(since: Timestamp, machine: String?) throws -> AlertRow?
    /// Imports and pushes, newest first.
    func imports(limit: Int) throws -> [ImportRow]
    /// Rejected records of one import, or of all when `importID` is nil.
    func rejectedRecords(importID: Int64?, limit: Int) throws -> [RejectedRow]
}

extension AlertQueries {
    /// Every machine, by host name.
    public func machines() throws -> [MachineRow] { try machines(after: nil, limit: nil) }
}

/// Analysts' changes to alerts and incidents; every change is audited.
public protocol AlertTriage: AnyObject {
    /// Applies `update` to the alerts `ids` together; returns how many changed.
    func updateAlerts(ids: [Int64], _ update: AlertUpdate, actor: String) throws -> Int
    func updateIncident(id: Int64, status: String?, assignedTo: String?, classification: String?, comment: String?, actor: String) throws
}
