import VigilModel
import Glibc

/// A record an import could not use, with its line and why.
public struct RejectedRow: Sendable {
    public var importID: Int64
    public var record: RejectedRecord
}

extension RejectedRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable { case importID = "import", line, reason, rawPrefix = "raw_prefix" }

    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(importID, forKey: .importID)
        try row.encode(record.line, forKey: .line)
        try row.encode(record.reason, forKey: .reason)
        try row.encode(record.rawPrefix, forKey: .rawPrefix)
    }
}
