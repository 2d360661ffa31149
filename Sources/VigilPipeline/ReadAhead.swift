import VigilIngest
import VigilModel

extension EventStream {
    /// Like `forEachBatch`, but a reader thread parses the next batch while `body` handles
    /// this one on the calling thread, so parsing and what `body` does (detection, for
    /// `vigil hunt`) run on both cores. Batches still arrive in input order.
    ///
    /// Returns the records read and the records that carried no event.
    public consuming func forEachBatchReadingAhead(
        limit: Int = 8_192, _ body: (_ events: [Event], _ rejected: [RejectedRecord]) throws -> Void
    ) throws -> (records: Int, skipped: Int) {
        let reader = ReaderState(self)
        try overlapping(produce: { yield in
            reader.records = try reader.stream.forEachBatch(limit: limit) { events, rejected in yield((events, rejected)) }
        }, consume: { batch in
            try body(batch.0, batch.1)
        })
        // The reader finished before its end was handed over; the queue's lock orders these reads after its writes.
        return (reader.records, reader.stream.skippedRecords)
    }
}

/// The stream, owned by the reader thread until it signals the end.
private final class ReaderState: @unchecked Sendable {
    var stream: EventStream
    var records = 0
    init(_ stream: consuming EventStream) { self.stream = stream }
}
