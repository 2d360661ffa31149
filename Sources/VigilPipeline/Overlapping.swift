import Foundation

/// Runs `produce` on a thread of its own while `consume` takes what it yields, in order, on the
/// calling thread, with at most two values waiting between them. When `consume` throws, the
/// producer still runs to its end (its values dropped) so its thread finishes; the first error
/// from either side is thrown. Values are handed over, not shared: a consumer that owns a
/// batch's arrays alone can move their elements out instead of copying them.
func overlapping<Value>(
    produce: @escaping @Sendable (_ yield: (consuming Value) -> Void) throws -> Void,
    consume: (consuming Value) throws -> Void
) throws {
    let queue = BoundedQueue<Result<Value?, any Error>>(capacity: 2)
    let thread = Thread {
        do {
            try produce { value in queue.put(.success(value)) }
            queue.put(.success(nil))
        } catch {
            queue.put(.failure(error))
        }
    }
    thread.stackSize = 4 << 20
    thread.start()
    while let value = try queue.take().get() {
        do {
            try consume(consume value)
        } catch {
            while (try? queue.take().get()) != nil {}
            throw error
        }
    }
}

/// Lowers the calling thread's scheduling priority for the rest of its life (nice 5; on Linux
/// the nice value is per thread).
///
/// The import's producer threads call it. The consumer they feed, the single writer, is the stage that cannot be spread over cores; with three busy threads on two cores
/// it used to get two thirds of a core while the producers ran ahead and then waited on it.
/// In `vigil bench`, alternating builds, the import stage took 2.50-2.56 s with the producers
/// at nice 10 against 2.64-2.73 s without; nice 5 measured about the same gain and leaves the
/// producers more of a share against other processes on a busy machine.
func yieldToConsumer() {
    #if os(Linux)
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 5)
    #endif
}

/// `DispatchQueue.concurrentPerform` for work that runs ahead of the consumer: the pool's
/// threads yield to it (`yieldToConsumer()`); the calling thread keeps its priority.
func concurrentPerformAhead(iterations: Int, _ body: @Sendable (Int) -> Void) {
    let caller = pthread_self()
    DispatchQueue.concurrentPerform(iterations: iterations) { index in
        if pthread_equal(pthread_self(), caller) == 0 { yieldToConsumer() }
        body(index)
    }
}
