import VigilModel
import VigilStore

/// One pushed body's parsed and detected events: where it came from and what it holds.
public struct PushedBatch: Sendable {
    public var source: String
    public var format: String
    public var integration: String
    /// The push token it came with, checked again inside the write transaction.
    public var tokenID: Int64?
    public var recordsRead: Int
    public var items: [BatchItem]
    public var rejected: [RejectedRecord]

    public init(source: String, format: String, integration: String, tokenID: Int64? = nil, recordsRead: Int,
                items: [BatchItem], rejected: [RejectedRecord]) {
        self.source = source
        self.format = format
        self.integration = integration
        self.tokenID = tokenID
        self.recordsRead = recordsRead
        self.items = items
        self.rejected = rejected
    }
}
