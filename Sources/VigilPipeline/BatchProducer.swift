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
    private var detector: Detector
    private let correlator: CorrelationEngine
    private let batchSize: Int
    private var names = FieldNameCache()
    private var finished = false
    private var framed: [RecordFramer.Item] = []
    private var events: [Event] = []

    init(framer: RecordFramer, parser: any EventParser, ruleSet: RuleSet, correlator: CorrelationEngine, batchSize: Int) {
        self.framer = framer
        self.parser = parser
        self.detector = Detector(ruleSet: ruleSet)
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
        var items: [BatchItem] = []
        items.reserveCapacity(events.count)
        var detections: [Detection] = []
        for event in events {
            detections.removeAll(keepingCapacity: true)
            detector.detect(event, into: &detections)
            let key = EventKey.compute(event)
            var raised = detections
            if !detections.isEmpty, !correlator.isEmpty {
                raised = correlator.process(event: event, key: key, detections: detections)
            }
            items.append(BatchItem(event: event, key: key, detections: raised,
                                   fieldsJSON: JSONText.object(fields: event.fields, name: { names.name(of: $0) })))
        }
        return PreparedBatch(items: items, rejected: rejected, recordsRead: framed.count, eventsParsed: events.count)
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

/// Hands a non-Sendable value to exactly one other thread, which then owns it alone.
final class Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
