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
    private var finished = false
    private var framed: [RecordFramer.Item] = []
    private var events: [Event] = []

    init(framer: RecordFramer, parser: any EventParser, ruleSet: RuleSet, correlator: CorrelationEngine, batchSize: Int) {
        self.framer = framer
        self.parser = parser
        workers = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount))
        workerStates = (0..<workers).map { _ in WorkerState(detector: Detector(ruleSet: ruleSet)) }
        self.correlator = correlator
        self.batchSize = batchSize
    }

    /// Records that carry no event, known once the input ended.
    var skippedRecords: Int { parser.skippedRecords }

    /// The next batch, or nil at the end of the input.
    func next() throws -> PreparedBatch? {
        guard !finished else { return nil }
        framed.removeAll(keepingCapacity: true)
        let more = try framer.next(into: &framed, limit: batchSize)
        events.removeAll(keepingCapacity: true)
        var rejected: [RejectedRecord] = []
        for item in framed {
            switch item {
            case .record(let record): if let rejection = parser.parse(record, into: &events) { rejected.append(rejection) }
            case .rejected(let rejection): rejected.append(rejection)
            }
        }
        if !more {
            parser.finish(into: &events)
            finished = true
        }
        // Detection, keys and serialization in parallel over slices of the batch; each worker
        // writes only its own slots of `prepared`.
        let count = events.count
        var prepared = [Prepared](repeating: Prepared(), count: count)
        let workers = count >= 256 ? self.workers : 1
        prepared.withUnsafeMutableBufferPointer { slots in
            let shared = Handoff((slots: slots, events: events, producer: Unmanaged.passUnretained(self)))
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let (slots, events, producer) = shared.value
                let lower = count * worker / workers, upper = count * (worker + 1) / workers
                producer.takeUnretainedValue().prepare(events[lower..<upper], worker: worker, into: slots, offset: lower)
            }
        }
        // Correlation needs input order, so it runs here, after the workers.
        var items: [BatchItem] = []
        items.reserveCapacity(count)
        for index in 0..<count {
            let event = events[index]
            var raised = prepared[index].detections
            if !raised.isEmpty, !correlator.isEmpty {
                raised = correlator.process(event: event, key: prepared[index].key, detections: raised)
            }
            items.append(BatchItem(event: event, key: prepared[index].key, detections: raised, fieldsJSON: prepared[index].fieldsJSON))
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

/// One detection worker's own detector and field-name cache.
final class WorkerState {
    var detector: Detector
    var names = FieldNameCache()
    init(detector: Detector) { self.detector = detector }
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

/// Hands a non-Sendable value to exactly one other thread, which then owns it alone.
final class Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
