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
}
