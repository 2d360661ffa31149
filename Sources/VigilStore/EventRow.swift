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

extension EventRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, time, hostname, osPlatform = "os_platform", product, category, service, sourceFormat = "source_format"
        case integration, line, fields, raw
    }

    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(id, forKey: .id)
        try row.encode(time, forKey: .time)
        try row.encode(hostname, forKey: .hostname)
        try row.encode(osPlatform, forKey: .osPlatform)
        try row.encode(product, forKey: .product)
        try row.encode(category, forKey: .category)
        try row.encode(service, forKey: .service)
        try row.encode(sourceFormat, forKey: .sourceFormat)
        try row.encode(integration, forKey: .integration)
        try row.encode(line, forKey: .line)
        try row.encode(JSONValue(parsing: fieldsJSON), forKey: .fields)
        try row.encode(raw, forKey: .raw)
    }
}
