import VigilModel

/// A detection that feeds a correlation rule, stored by the ingest node that made it for the
/// one node that keeps the correlation windows (several `vigil serve` nodes on PostgreSQL).
public struct QueuedDetection: Sendable, Equatable {
    /// The queue's id for it; 0 until stored.
    public var id: Int64
    public var eventID: Int64
    public var eventKey: Int64
    public var eventTime: Timestamp
    public var machineID: Int64
    public var hostname: String
    public var integration: String
    public var ruleID: String
    /// The event's values of the fields the correlations read (`CorrelationEngine.correlatedFields`), by name.
    public var fields: [String: String]
    /// The event's file hashes and remote addresses, for the incident of an alert it opens.
    public var indicators: [Indicator]

    public init(id: Int64 = 0, eventID: Int64, eventKey: Int64, eventTime: Timestamp, machineID: Int64, hostname: String,
                integration: String, ruleID: String, fields: [String: String], indicators: [Indicator]) {
        self.id = id
        self.eventID = eventID
        self.eventKey = eventKey
        self.eventTime = eventTime
        self.machineID = machineID
        self.hostname = hostname
        self.integration = integration
        self.ruleID = ruleID
        self.fields = fields
        self.indicators = indicators
    }
}

/// The detections queue: ingest nodes add to it in their batch's transaction; the node that
/// holds the correlator role takes from it, oldest event first, and deletes what it applied
/// in the same transaction as the alerts and windows it changed.
public protocol CorrelationQueue: AnyObject {
    /// Adds detections (inside the caller's transaction).
    func enqueue(_ detections: [QueuedDetection]) throws

    /// Tries to take the correlator role for this connection's lifetime; false when another
    /// node holds it. The role passes on when the holder's connection ends.
    func takeCorrelatorRole() throws -> Bool

    /// Whether the role taken is still held: false once the connection that took it is gone.
    var holdsCorrelatorRole: Bool { get }

    /// Up to `limit` queued detections, oldest event first, locked for this transaction
    /// (inside the caller's transaction).
    func claimQueued(limit: Int) throws -> [QueuedDetection]

    /// Removes applied detections (inside the caller's transaction).
    func removeQueued(ids: [Int64]) throws

    /// The correlation windows the last holder of the role saved.
    func correlationState() throws -> [(correlationID: String, groupKey: String, state: String)]

    /// Replaces the saved correlation windows (inside the caller's transaction).
    func saveCorrelationState(_ rows: [(correlationID: String, groupKey: String, state: String)]) throws
}
