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
