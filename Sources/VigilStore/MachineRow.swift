import VigilModel

/// One machine.
public struct MachineRow: Sendable {
    public var id: Int64
    public var hostname: String
    public var osPlatform: String
    public var osVersion: String?
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var lastIntegration: String?
    public var eventCount: Int64
    public var alertCount: Int64
    /// Whether the reported OS version is on the compatibility list; nil when the machine reported none.
    public var supported: Bool?
    /// False when every integration the machine reported through is off.
    public var active: Bool
    /// The other platforms or versions data has claimed for this host name (`android 4.4 via
    /// json`), kept aside instead of overwriting it; nil when nothing disagrees.
    public var review: String?
}

extension MachineRow {
    /// Health as Defender's device inventory shows it: `active` when data arrived at or after
    /// `activeSince` and an integration the machine reports through is on, else `inactive`.
    public func health(activeSince: Timestamp) -> String {
        active && lastSeen >= activeSince ? "active" : "inactive"
    }
}

extension MachineRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, hostname, osPlatform = "os_platform", osVersion = "os_version", supported, status, firstSeen = "first_seen"
        case lastSeen = "last_seen", lastIntegration = "last_integration", eventCount = "event_count", alertCount = "alert_count", review
    }

    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(id, forKey: .id)
        try row.encode(hostname, forKey: .hostname)
        try row.encode(osPlatform, forKey: .osPlatform)
        try row.encode(osVersion, forKey: .osVersion)
        try row.encode(supported, forKey: .supported)
        try row.encode(active ? "active" : "inactive", forKey: .status)
        try row.encode(firstSeen, forKey: .firstSeen)
        try row.encode(lastSeen, forKey: .lastSeen)
        try row.encode(lastIntegration, forKey: .lastIntegration)
        try row.encode(eventCount, forKey: .eventCount)
        try row.encode(alertCount, forKey: .alertCount)
        try row.encode(review, forKey: .review)
    }
}
