import Foundation
import VigilDetection
import VigilIngest
import VigilModel
import VigilStore

/// One batch ready for the writer: parsed, detected, correlated and keyed.
struct PreparedBatch {
    var items: [BatchItem]
    var rejected: [RejectedRecord]
    var recordsRead: Int
    var eventsParsed: Int
}

/// The CPU side of an import: framing, parsing, detection, correlation (in input order),
/// content keys and field serialization. It runs on its own thread while the writer commits
/// the previous batch, so an import uses both cores.
final class BatchProducer {
    private let framer: RecordFramer
    private var parser: any EventParser
    /// Per-worker state; detection runs on `workers` threads, each touching only its own.
    private let workerStates: [WorkerState]
    private let workers: Int
    private let correlator: CorrelationEngine
    private let batchSize: Int
    /// Stateless formats are parsed by the workers too, each with its own parser.
    private let parallelParsing: Bool
    private var finished = false
    private var framed: [RecordFramer.Item] = []
    private var events: [Event] = []

    init(framer: RecordFramer, parser: any EventParser, makeParser: () -> any EventParser, ruleSet: RuleSet,
         correlator: CorrelationEngine, batchSize: Int) {
        self.framer = framer
        self.parser = parser
        parallelParsing = type(of: parser).isStateless
        workers = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount))
        workerStates = (0..<workers).map { _ in WorkerState(detector: Detector(ruleSet: ruleSet), parser: makeParser()) }
        self.correlator = correlator
        self.batchSize = batchSize
    }

    /// Records that carry no event, known once the input ended.
    var skippedRecords: Int { parser.skippedRecords + workerStates.reduce(0) { $0 + $1.parser.skippedRecords } }

    /// The next batch, or nil at the end of the input.
    func next() throws -> PreparedBatch? {
        guard !finished else { return nil }
        framed.removeAll(keepingCapacity: true)
        let more = try framer.next(into: &framed, limit: batchSize)
        events.removeAll(keepingCapacity: true)
        var rejected: [RejectedRecord] = []
        var prepared: [Prepared] = []
        let workers = framed.count >= 256 ? self.workers : 1
        if parallelParsing && workers > 1 {
            // Each worker parses, detects, keys and serializes a contiguous slice; slices are
            // joined in order, so the batch reads as if parsed serially.
            var outputs = [WorkerOutput](repeating: WorkerOutput(), count: workers)
            let count = framed.count
            outputs.withUnsafeMutableBufferPointer { outputs in
                let shared = Handoff((outputs: outputs, framed: framed, producer: Unmanaged.passUnretained(self)))
                concurrentPerformAhead(iterations: workers) { worker in
                    let (outputs, framed, producer) = shared.value
                    let lower = count * worker / workers, upper = count * (worker + 1) / workers
                    outputs[worker] = producer.takeUnretainedValue().parseAndPrepare(framed[lower..<upper], worker: worker)
                }
            }
            for output in outputs {
                events += output.events
                prepared += output.prepared
                rejected += output.rejected
            }
        } else {
            for item in framed {
                switch item {
                case .record(let record): if let rejection = parser.parse(record, into: &events) { rejected.append(rejection) }
                case .rejected(let rejection): rejected.append(rejection)
                }
            }
        }
        if !more {
            parser.finish(into: &events)
            finished = true
        }
        // Detection, keys and serialization of what was parsed serially, in parallel slices;
        // each worker writes only its own slots.
        let count = events.count
        let start = prepared.count
        if start < count {
            prepared += [Prepared](repeating: Prepared(), count: count - start)
            let remaining = count - start
            let workers = remaining >= 256 ? self.workers : 1
            prepared.withUnsafeMutableBufferPointer { slots in
                let shared = Handoff((slots: slots, events: events, producer: Unmanaged.passUnretained(self)))
                concurrentPerformAhead(iterations: workers) { worker in
                    let (slots, events, producer) = shared.value
                    let lower = start + remaining * worker / workers, upper = start + remaining * (worker + 1) / workers
                    producer.takeUnretainedValue().prepare(events[lower..<upper], worker: worker, into: slots, offset: lower)
                }
            }
        }
        // Correlation needs input order, so it runs here, after the workers.
        var items: [BatchItem] = []
        items.reserveCapacity(count)
        let now = Timestamp.now()
        for index in 0..<count {
            let event = events[index]
            var raised = prepared[index].detections
            if !raised.isEmpty, !correlator.isEmpty {
                raised = correlator.process(event: event, key: prepared[index].key, detections: raised, now: now)
            }
            items.append(BatchItem(event: event, key: prepared[index].key, detections: raised, fieldsJSON: prepared[index].fieldsJSON,
                                   futureDated: correlator.isFutureDated(event, now: now)))
        }
        return PreparedBatch(items: items, rejected: rejected, recordsRead: framed.count, eventsParsed: events.count)
    }
}

/// What a worker computes for one event.
struct Prepared {
    var detections: [Detection] = []
    var key: Int64 = 0
    var fieldsJSON = ""
}

extension BatchProducer {
    /// Detects, keys and serializes `events`, writing slot `offset + i` for event `i`. Worker
    /// `worker` uses only its own detector and name cache.
    fileprivate func prepare(_ events: ArraySlice<Event>, worker: Int, into slots: UnsafeMutableBufferPointer<Prepared>, offset: Int) {
        let state = workerStates[worker]
        var position = offset
        for event in events {
            var detections: [Detection] = []
            state.detector.detect(event, into: &detections)
            slots[position] = Prepared(
                detections: detections, key: EventKey.compute(event),
                fieldsJSON: JSONText.object(fields: event.fields, name: { state.names.name(of: $0) }))
            position += 1
        }
    }
}

/// One worker's own parser, detector and field-name cache.
final class WorkerState {
    var detector: Detector
    var parser: any EventParser
    var names = FieldNameCache()

    init(detector: Detector, parser: any EventParser) {
        self.detector = detector
        self.parser = parser
    }
}

/// What a worker produced from its slice of records.
struct WorkerOutput {
    var events: [Event] = []
    var prepared: [Prepared] = []
    var rejected: [RejectedRecord] = []
}

extension BatchProducer {
    /// Parses a slice of records with worker `worker`'s own parser, then prepares its events.
    fileprivate func parseAndPrepare(_ items: ArraySlice<RecordFramer.Item>, worker: Int) -> WorkerOutput {
        let state = workerStates[worker]
        var output = WorkerOutput()
        for item in items {
            switch item {
            case .record(let record): if let rejection = state.parser.parse(record, into: &output.events) { output.rejected.append(rejection) }
            case .rejected(let rejection): output.rejected.append(rejection)
            }
        }
        output.prepared = [Prepared](repeating: Prepared(), count: output.events.count)
        output.prepared.withUnsafeMutableBufferPointer { slots in
            prepare(output.events[...], worker: worker, into: slots, offset: 0)
        }
        return output
    }
}

/// A blocking, bounded hand-off between the producer thread and the writer.
final class BoundedQueue<Element>: @unchecked Sendable {
    // All state is guarded by `condition`.
    private let condition = NSCondition()
    private var elements: [Element] = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func put(_ element: Element) {
        condition.lock()
        while elements.count >= capacity { condition.wait() }
        elements.append(element)
        condition.broadcast()
        condition.unlock()
    }

    func take() -> Element {
        condition.lock()
        while elements.isEmpty { condition.wait() }
        let element = elements.removeFirst()
        condition.broadcast()
        condition.unlock()
        return element
    }
}

/// Runs `produce` on a thread of its own while `consume` takes what it yields, in order, on the
/// calling thread, with at most two values waiting between them. When `consume` throws, the
/// producer still runs to its end (its values dropped) so its thread finishes; the first error
/// from either side is thrown.
func overlapping<Value>(
    produce: @escaping @Sendable (_ yield: (Value) -> Void) throws -> Void,
    consume: (Value) throws -> Void
) throws {
    let queue = BoundedQueue<Result<Value?, any Error>>(capacity: 2)
    let thread = Thread {
        do {
            try produce { queue.put(.success($0)) }
            queue.put(.success(nil))
        } catch {
            queue.put(.failure(error))
        }
    }
    thread.stackSize = 4 << 20
    thread.start()
    while let value = try queue.take().get() {
        do {
            try consume(value)
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

/// Hands a non-Sendable value to exactly one other thread, which then owns it alone.
final class Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
