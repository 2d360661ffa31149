import VigilModel

/// One stored event.
public struct EventRow: Sendable {
    public var id: Int64
    public var time: Timestamp
    public var hostname: String
    public var osPlatform: String
    public var product: String?
    public var category: String?
    public var service: String?
    public var sourceFormat: String
    public var integration: String
    /// The fields as a JSON object.
    public var fieldsJSON: String
    public var raw: String
    public var line: Int64?
}
