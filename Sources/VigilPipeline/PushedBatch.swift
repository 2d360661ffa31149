import VigilModel
import VigilStore

/// One pushed body, ready to commit: where it came from, and the reader that parses and
/// detects its records batch by batch inside the write transaction, so a push is written in
/// bounded batches, all in one transaction, and never holds all of its events at once.
public struct PushedBatch: Sendable {
    public var source: String
    public var format: String
    public var integration: String
    /// The push token it came with, checked again inside the write transaction.
    public var tokenID: Int64?
    /// Its records, counted before the commit (the per-push cap and the token's event budget).
    public var records: Int
    /// The first batch, read by the request before it queues, so that small pushes (one
    /// batch) are parsed and detected in parallel, off the writer's thread.
    let firstBatch: PreparedBatch?
    /// The rest; owned by the writer's thread once submitted.
    let reader: Handoff<BatchReader>

    /// Reads the first batch of `reader` (on the caller's thread) and keeps the reader for the rest.
    public init(source: String, format: String, integration: String, tokenID: Int64? = nil, records: Int, reader: sending BatchReader) throws {
        self.source = source
        self.format = format
        self.integration = integration
        self.tokenID = tokenID
        self.records = records
        firstBatch = try reader.next()
        self.reader = Handoff(reader)
    }
}

/// What committing one push did.
public struct PushOutcome: Sendable {
    public var outcome = BatchOutcome()
    public var recordsRead = 0
    /// The first rejected records, with line and reason (all of them are stored).
    public var rejectedSample: [RejectedRecord] = []
    /// Records that carried no event.
    public var skipped = 0

    public init() {}
}
