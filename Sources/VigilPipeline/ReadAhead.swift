import Foundation
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
        let queue = BoundedQueue<Result<(events: [Event], rejected: [RejectedRecord])?, any Error>>(capacity: 2)
        let thread = Thread {
            do {
                reader.records = try reader.stream.forEachBatch(limit: limit) { events, rejected in
                    queue.put(.success((events, rejected)))
                }
                queue.put(.success(nil))
            } catch {
                queue.put(.failure(error))
            }
        }
        thread.stackSize = 4 << 20
        thread.start()
        while let batch = try queue.take().get() {
            do {
                try body(batch.events, batch.rejected)
            } catch {
                // Let the reader reach the end so its thread finishes, then report the failure.
                while (try? queue.take().get()) != nil {}
                throw error
            }
        }
        // The reader put its last batch after finishing; the queue's lock orders these reads after its writes.
        return (reader.records, reader.stream.skippedRecords)
    }
}

/// The stream, owned by the reader thread until it signals the end.
private final class ReaderState: @unchecked Sendable {
    var stream: EventStream
    var records = 0
    init(_ stream: consuming EventStream) { self.stream = stream }
}
