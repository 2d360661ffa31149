import VigilModel

/// Filters for event listings: `vigil events`, `GET /api/v1/events` and a machine's timeline.
public struct EventFilter: Sendable {
    public var machine: String?
    /// One machine by its id (a timeline); `machine` names one by host name.
    public var machineID: Int64?
    public var category: String?
    public var since: Timestamp?
    public var until: Timestamp?
    public var limit: Int = 100
    /// Continue a listing after this event (events are listed newest first, by time then id).
    public var after: EventPosition?

    public init(machine: String? = nil, category: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil, limit: Int = 100) {
        self.machine = machine
        self.category = category
        self.since = since
        self.until = until
        self.limit = limit
    }
}

/// Where a listing of events, newest first, stopped: the last event's time and id. A page
/// that continues from it is stable while new events arrive.
public struct EventPosition: Sendable, Equatable {
    public var time: Timestamp
    public var id: Int64

    public init(time: Timestamp, id: Int64) {
        self.time = time
        self.id = id
    }
}
