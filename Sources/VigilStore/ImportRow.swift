import VigilModel
import Glibc

/// One import: a file, stdin or one HTTP push, and what it stored.
public struct ImportRow: Sendable {
    public var id: Int64
    public var source: String
    public var format: String
    public var integration: String
    public var startedAt: Timestamp
    public var finishedAt: Timestamp?
    public var recordsRead: Int64
    public var eventsStored: Int64
    public var rejected: Int64
    public var duplicates: Int64
    public var alertsRaised: Int64
    /// `running`, `completed`, `failed`, or `interrupted` (the process died mid-import).
    public var status: String
}

extension ImportRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case id, source, format, integration, startedAt = "started", finishedAt = "finished", recordsRead = "records_read"
        case eventsStored = "events_stored", rejected, duplicates, alertsRaised = "alerts_raised", status
    }

    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(id, forKey: .id)
        try row.encode(source, forKey: .source)
        try row.encode(format, forKey: .format)
        try row.encode(integration, forKey: .integration)
        try row.encode(startedAt, forKey: .startedAt)
        try row.encode(finishedAt, forKey: .finishedAt)
        try row.encode(recordsRead, forKey: .recordsRead)
        try row.encode(eventsStored, forKey: .eventsStored)
        try row.encode(rejected, forKey: .rejected)
        try row.encode(duplicates, forKey: .duplicates)
        try row.encode(alertsRaised, forKey: .alertsRaised)
        try row.encode(status, forKey: .status)
    }
}
