import VigilModel

/// Filters for `vigil events`.
public struct EventFilter: Sendable {
    public var machine: String?
    public var category: String?
    public var since: Timestamp?
    public var until: Timestamp?
    public var limit: Int = 100

    public init(machine: String? = nil, category: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil, limit: Int = 100) {
        self.machine = machine
        self.category = category
        self.since = since
        self.until = until
        self.limit = limit
    }
}
