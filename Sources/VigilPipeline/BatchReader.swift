import Foundation
import VigilDetection
import VigilIngest
import VigilModel
import VigilStore

/// One batch of an input, read and detected: what the commit stage (or `vigil hunt`) takes.
public struct PreparedBatch: Sendable {
    /// Each event with its content key, its detections (not yet correlated) and, when stored,
    /// its fields as JSON; for a hunt, only the events some rule matched.
    public var items: [BatchItem]
    public var rejected: [RejectedRecord]
    public var recordsRead: Int
    /// The events parsed and admitted: `items.count`, and for a hunt's reader
    /// (`BatchReader.Use.hunting`) the events that matched nothing too.
    public var eventsParsed: Int
    /// The input's bytes read once this batch was (compressed bytes for gzip), for progress:
    /// taken on the reading thread, so whoever takes the batch may read it on another.
    public var bytesRead: Int64
    /// A hunt's events that matched nothing and that no worker dropped (a stateful format's,
    /// parsed on one thread): held only to be freed by whoever drops the batch. Freed instead
    /// on the thread that detected them, the auditd hunt measured slower (0.98 -> 1.07 s,
    /// alternating builds).
    fileprivate var unmatched: [Event] = []
}

/// The read side of the one batch pipeline, shared by `vigil import`, `vigil hunt` and the
/// HTTP push: frames an input into records, detects its format once (when not named) and
/// asks the gate about it before any record reaches a parser, then parses, detects, keys and
/// serializes each batch, on both cores. Correlation and writing are the commit stage's
/// (`BatchCommitter`): they need input order and the store.
public final class BatchReader {
    /// The input's format: the one named, or the one detected from its first records.
    public let format: SourceFormat
    private let source: ByteSource
    private let framer: RecordFramer
    private var parser: any EventParser
    /// Per-worker state; detection runs on `workers` threads, each touching only its own.
    private let workerStates: [WorkerState]
    private let workers: Int
    /// Records framed per batch, at most.
    public let batchSize: Int
    /// The platform given for the whole input, if any.
    private let platform: OSPlatform?
    private let use: Use
    /// The gate's per-event check: why an event may not enter, or nil.
    private let refuseEvent: @Sendable (Event) -> String?
    /// Stateless formats are parsed by the workers too, each with its own parser.
    private let parallelParsing: Bool
    /// Whether the framer has given its last records.
    private var framingFinished = false
    /// Whether the reading threads and the workers lower their priority for the consumer of
    /// the batches (`forEachBatch`): yes when it is the single writer.
    private var producersYield = true

    /// Reads `source` as `format`, or as the format detected from its first records when nil.
    /// `admit` is the gate: it sees the format before any record is parsed, and what it throws
    /// ends the read. `use` says what the batches are for: storing, or a hunt (see `Use`).
    /// `refuseEvent`, the gate's per-event check, turns an event into a rejected record with its
    /// reason before it is detected; the workers call it, so it must be safe on any thread.
    /// `workers` threads parse (stateless formats) and detect; 1 does everything on the caller's thread.
    /// `platform`, when given, is every event's machine platform (`import --platform`), set before detection.
    public init(source: ByteSource, format: SourceFormat?, context: ParserContext, ruleSet: RuleSet,
                admit: (SourceFormat) throws -> Void = { _ in }, refuseEvent: @escaping @Sendable (Event) -> String? = { _ in nil },
                batchSize: Int = 8_192, use: Use = .storing, workers: Int = BatchReader.defaultWorkers,
                platform: OSPlatform? = nil) throws {
        self.platform = platform
        self.refuseEvent = refuseEvent
        self.source = source
        totalBytes = source.totalBytes
        framer = RecordFramer(source: source)
        self.format = try format ?? SourceFormat.detect(framer, path: source.path)
        try admit(self.format)
        parser = self.format.makeParser(context: context)
        parallelParsing = type(of: parser).isStateless
        self.workers = max(1, workers)
        let format = self.format
        workerStates = (0..<self.workers).map { _ in WorkerState(detector: Detector(ruleSet: ruleSet), parser: format.makeParser(context: context)) }
        self.batchSize = batchSize
        self.use = use
    }

    /// What the batches are for.
    public enum Use: Sendable {
        /// Storing them (an import, a push): every admitted event, keyed, with its fields as JSON.
        case storing
        /// A hunt (`vigil hunt`, `vigil rules test`), where nothing is stored: only the events
        /// some rule matched are handed on, keyed, without field JSON. A stateless format's
        /// others are freed by the worker that parsed them; a stateful format's ride along in
        /// the batch, to be freed by whoever drops it. `PreparedBatch.eventsParsed` still
        /// counts them.
        case hunting
    }

    /// One worker per core, at most two: the writer, not detection, bounds an import beyond that.
    public static var defaultWorkers: Int { max(1, min(2, ProcessInfo.processInfo.activeProcessorCount)) }

    /// Records that carry no event, known once the input ended.
    public var skippedRecords: Int { parser.skippedRecords + workerStates.reduce(0) { $0 + $1.parser.skippedRecords } }

    /// The input's size, when it is a regular file.
    public let totalBytes: Int64?

    /// The next batch, or nil at the end of the input.
    public func next() throws -> PreparedBatch? {
        // Not `map`: it would lend the batch to `prepare`, which then copies its parts (and
        // every event in them) to take the events apart.
        guard let framed = try frameNext() else { return nil }
        return prepare(parse(framed))
    }

    /// Frames the next batch's records, or nil at the end of the input.
    ///
    /// Touches only the framing state (`framer`, `framingFinished`): so it may run on one
    /// thread while `parse` runs on another (`forEachBatch`).
    fileprivate func frameNext() throws -> FramedBatch? {
        guard !framingFinished else { return nil }
        var records: [RecordFramer.Item] = []
        records.reserveCapacity(batchSize)
        let more = try framer.next(into: &records, limit: batchSize)
        framingFinished = !more
        return FramedBatch(records: records, isLast: !more, bytesRead: source.bytesRead)
    }

    /// Parses a framed batch. A stateless format's events are detected here too, by the workers
    /// that parsed them (`ParsedBatch.prepared`).
    ///
    /// Touches only the parsing state (`parser`), and the workers' parsers and detectors only
    /// when the format is stateless: so for a stateful format it may run on one thread while
    /// `prepare` runs on another (`forEachBatch`).
    fileprivate func parse(_ framed: consuming FramedBatch) -> ParsedBatch {
        let records = framed.records
        var batch = ParsedBatch(recordsRead: records.count, bytesRead: framed.bytesRead)
        let workers = records.count >= 256 ? self.workers : 1
        if parallelParsing && workers > 1 {
            // Each worker parses, detects, keys and serializes a contiguous slice; the slices are
            // the batch's parts, in order, so the batch reads as if parsed serially.
            var outputs = [WorkerOutput](repeating: WorkerOutput(), count: workers)
            let count = records.count
            outputs.withUnsafeMutableBufferPointer { outputs in
                let shared = UnsafeDisjointWrites(slots: outputs, context: (records: records, reader: self))
                runWorkers(workers) { worker in
                    let lower = count * worker / workers, upper = count * (worker + 1) / workers
                    shared.write(shared.context.reader.parseAndPrepare(shared.context.records[lower..<upper], worker: worker), at: worker)
                }
            }
            for index in outputs.indices {
                batch.rejected += outputs[index].rejected
                outputs[index].rejected = []
            }
            batch.parts = outputs
        } else {
            // A stateful parser may still scan its records on every worker, then assemble them in order.
            // One event per record, and a few more for the events records combine into (auditd's
            // process events): the array grows once.
            var part = WorkerOutput()
            part.events.reserveCapacity(records.count + records.count / 2)
            parser.parse(records, into: &part.events, rejected: &batch.rejected, slices: workers, runSlices: runWorkers)
            batch.parts = [part]
        }
        if framed.isLast {
            var last = WorkerOutput()
            parser.finish(into: &last.events)
            if !last.events.isEmpty { batch.parts.append(last) }
        }
        return batch
    }

    /// Detects, keys and serializes the events of `batch` that parsing left unprepared, in
    /// parallel slices (each worker writes only its own slots), and turns refused events into
    /// rejected records.
    fileprivate func prepare(_ batch: consuming ParsedBatch) -> PreparedBatch {
        var parts = batch.parts
        batch.parts = []
        for index in parts.indices where parts[index].prepared.count < parts[index].events.count {
            prepare(&parts[index])
        }
        // Each event is moved into its item, from the end, not copied (a copy retains every
        // string and array the event holds, and the part's array then releases them again).
        var refused: [RejectedRecord] = []
        let handsOnAll = use == .storing
        let dropped = parts.reduce(0) { $0 + $1.unmatchedDropped }
        let admitted = parts.reduce(dropped) { $0 + $1.prepared.count { $0.refusal == nil } }
        let kept = parts.reduce(0) { $0 + $1.prepared.count { $0.refusal == nil && (handsOnAll || !$0.detections.isEmpty) } }
        var unmatched: [Event] = []
        unmatched.reserveCapacity(admitted - dropped - kept)
        let items = [BatchItem](unsafeUninitializedCapacity: kept) { slots, initialized in
            var slot = kept
            for index in parts.indices.reversed() {
                while let event = parts[index].events.popLast(), let prepared = parts[index].prepared.popLast() {
                    if let reason = prepared.refusal {
                        refused.append(RejectedRecord(line: event.line, reason: reason, raw: event.raw))
                        continue
                    }
                    guard handsOnAll || !prepared.detections.isEmpty else {
                        unmatched.append(event)
                        continue
                    }
                    slot -= 1
                    slots.initializeElement(
                        at: slot, to: BatchItem(event: event, precomputedKey: prepared.key, detections: prepared.detections, fieldsJSON: prepared.fieldsJSON))
                }
            }
            precondition(slot == 0, "every event handed on fills one slot")
            initialized = kept
        }
        return PreparedBatch(items: items, rejected: batch.rejected + refused.reversed(), recordsRead: batch.recordsRead,
                             eventsParsed: admitted, bytesRead: batch.bytesRead, unmatched: unmatched)
    }

    /// Detects, keys and serializes a part's events on the workers, each its own slice.
    private func prepare(_ part: inout WorkerOutput) {
        let count = part.events.count
        if let platform { for index in part.events.indices { part.events[index].assignPlatform(platform) } }
        part.prepared = [Prepared](repeating: Prepared(), count: count)
        let workers = count >= 256 ? self.workers : 1
        part.events.withUnsafeMutableBufferPointer { events in
            part.prepared.withUnsafeMutableBufferPointer { slots in
                let shared = UnsafeDisjointWrites(slots: slots, context: (events: UnsafeDisjointWrites(slots: events, context: ()), reader: self))
                runWorkers(workers) { worker in
                    let lower = count * worker / workers, upper = count * (worker + 1) / workers
                    shared.context.reader.prepare(shared.context.events, lower..<upper, worker: worker, into: shared)
                }
            }
        }
    }
}

extension BatchReader {
    /// Runs `body` once per worker, on the workers, at a lower priority when the consumer of the
    /// batches needs the CPU (`producersYield`).
    private func runWorkers(_ count: Int, _ body: @Sendable (Int) -> Void) {
        if producersYield { concurrentPerformAhead(iterations: count, body) } else { DispatchQueue.concurrentPerform(iterations: count, execute: body) }
    }
}

/// A batch's records as framed, not yet parsed.
private struct FramedBatch {
    var records: [RecordFramer.Item]
    /// Whether the input ended with these records.
    var isLast: Bool
    /// The input's bytes read once these records were framed.
    var bytesRead: Int64
}

/// A batch framed and parsed, in parts in input order: one per worker for a stateless format,
/// its events prepared by the worker that parsed them; otherwise parts whose events `prepare`
/// still has to prepare.
private struct ParsedBatch {
    var parts: [WorkerOutput] = []
    var rejected: [RejectedRecord] = []
    var recordsRead: Int
    var bytesRead: Int64
}

extension BatchReader {
    /// Calls `body` with every batch, in input order, to the end of the input. With
    /// `readingAhead`, a thread of its own reads batch n+1 while `body` handles batch n, so
    /// reading and what `body` does run on both cores; the reading thread yields the CPU to
    /// `body`'s (the single writer, for an import). With `parsingAhead` too, framing runs on a
    /// thread of its own, beside parsing, and a stateful format (auditd, whose records are
    /// assembled in order on one thread) is parsed on another, beside detection: for a light
    /// `body` (a hunt), which leaves the cores to reading. An import's writer needs a core
    /// itself, and the extra threads measured slower there. A light `body` has no claim on the
    /// CPU, so then the reading threads and workers keep their priority: yielding would only
    /// hand their time to other processes. Without `parsingAhead`, a batch `body` is done with
    /// goes back to the reading thread to be freed (`SpentBatch`).
    /// The first error from any side is thrown.
    public func forEachBatch(readingAhead: Bool = true, parsingAhead: Bool = false, _ body: (PreparedBatch) throws -> Void) throws {
        producersYield = !parsingAhead
        guard readingAhead else {
            while let batch = try next() { try body(batch) }
            return
        }
        // The reader is owned by the reading threads until they have yielded their last batch.
        let owned = Handoff(self)
        let producersYield = producersYield
        let spent = SpentBatch()
        try overlapping(produce: { yield in
            if producersYield { yieldToConsumer() }
            let reader = owned.value
            guard parsingAhead else {
                while let batch = try reader.next() {
                    yield(consume batch)
                    spent.free()
                }
                return
            }
            // Framing batch n+1 runs beside the parsing of batch n, and for a stateful format,
            // detection of batch n-1 beside that. The threads touch disjoint state
            // (`frameNext`, `parse`).
            let framing = Handoff(reader)
            let frameAll: @Sendable (_ yieldFramed: (consuming FramedBatch) -> Void) throws -> Void = { yieldFramed in
                while let framed = try framing.value.frameNext() { yieldFramed(consume framed) }
            }
            guard !reader.parallelParsing else {
                try overlapping(produce: frameAll, consume: { yield(reader.prepare(reader.parse($0))) })
                return
            }
            let parsing = Handoff(reader)
            try overlapping(produce: { yieldParsed in
                let reader = parsing.value
                try overlapping(produce: frameAll, consume: { yieldParsed(reader.parse($0)) })
            }, consume: { yield(reader.prepare($0)) })
        }, consume: { batch in
            try body(batch)
            // A hunt's reading threads free nothing handed back: its batches hold only matches.
            if !parsingAhead { spent.give(batch) }
        })
    }
}

/// A batch `body` is done with, freed on the reading thread: freeing a batch (a release of
/// every string and array its events hold) is work the writer, the one stage that cannot be
/// spread over cores, need not do. At most one batch waits, so memory stays bounded; when one
/// is waiting already, the writer frees its batch itself.
private final class SpentBatch: @unchecked Sendable {
    // Safety: `waiting` is read and written only with `lock` held.
    private let lock = NSLock()
    private var waiting: PreparedBatch?

    /// Hands `batch` over to `free()`, or frees it here if a batch is waiting already.
    func give(_ batch: consuming PreparedBatch) {
        lock.lock()
        if waiting == nil {
            waiting = consume batch
            lock.unlock()
            return
        }
        lock.unlock()
        _ = consume batch
    }

    /// Frees the waiting batch, if any, on the calling thread, outside the lock.
    func free() {
        lock.lock()
        let batch = waiting.take()
        lock.unlock()
        _ = consume batch
    }
}

/// What a worker computes for one event.
struct Prepared {
    var detections: [Detection] = []
    var key: EventKey?
    var fieldsJSON: String?
    /// Why the gate refuses the event; a refused event is not detected, keyed or serialized.
    var refusal: String?
}

extension BatchReader {
    /// Asks the gate about each event of `range`, then detects, keys and serializes those it
    /// admits, writing the slot of the same index. Worker `worker` uses only its own detector
    /// and JSON writer, and touches only the events and slots of its own range.
    fileprivate func prepare<Context>(_ events: UnsafeDisjointWrites<Event, Void>, _ range: Range<Int>, worker: Int,
                                      into slots: UnsafeDisjointWrites<Prepared, Context>) {
        let state = workerStates[worker]
        // The JSON writer is worked on as a local, not through the class: each of the thousands
        // of objects per batch would otherwise pay a dynamic exclusivity check. It is moved out,
        // not copied, so that its buffers stay uniquely referenced.
        var json = FieldsJSONWriter()
        swap(&json, &state.json)
        defer { swap(&json, &state.json) }
        for index in range {
            // Each event is lent out of its slot, not read in place: handed from the buffer to
            // the gate's check and the detector (other modules), it would be copied for each call.
            let prepared = events.withElement(at: index) { event -> Prepared in
                if let reason = refuseEvent(event) { return Prepared(refusal: reason) }
                var detections: [Detection] = []
                state.detector.detect(event, into: &detections)
                return Prepared(
                    detections: detections, key: use == .storing || !detections.isEmpty ? EventKey(event) : nil,
                    fieldsJSON: use == .storing ? json.object(event.fields) : nil)
            }
            slots.write(prepared, at: index)
        }
    }

    /// Parses a slice of records with worker `worker`'s own parser, then prepares its events.
    fileprivate func parseAndPrepare(_ items: ArraySlice<RecordFramer.Item>, worker: Int) -> WorkerOutput {
        let state = workerStates[worker]
        var output = WorkerOutput()
        state.parser.parse(items, into: &output.events, rejected: &output.rejected)
        if let platform { for index in output.events.indices { output.events[index].assignPlatform(platform) } }
        let count = output.events.count
        output.prepared = [Prepared](repeating: Prepared(), count: count)
        output.events.withUnsafeMutableBufferPointer { events in
            output.prepared.withUnsafeMutableBufferPointer { slots in
                prepare(UnsafeDisjointWrites(slots: events, context: ()), 0..<count, worker: worker, into: UnsafeDisjointWrites(slots: slots, context: ()))
            }
        }
        if use == .hunting { output.dropUnmatched() }
        return output
    }
}

/// One worker's own parser, detector and JSON writer.
final class WorkerState {
    var detector: Detector
    var parser: any EventParser
    var json = FieldsJSONWriter()

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
    /// Admitted events that matched nothing, dropped for a hunt (`dropUnmatched`).
    var unmatchedDropped = 0

    /// Drops the admitted events that matched nothing, keeping the others in order: for a hunt,
    /// by the worker that parsed them, so that they are freed where they were allocated.
    mutating func dropUnmatched() {
        var kept = 0
        for index in prepared.indices where prepared[index].refusal != nil || !prepared[index].detections.isEmpty {
            if kept != index {
                events.swapAt(kept, index)
                prepared.swapAt(kept, index)
            }
            kept += 1
        }
        unmatchedDropped += events.count - kept
        events.removeLast(events.count - kept)
        prepared.removeLast(prepared.count - kept)
    }
}

extension Event {
    /// Sets the machine's platform, and the Sigma product where the parser derived it from the
    /// platform it guessed.
    mutating func assignPlatform(_ platform: OSPlatform) {
        if logSource.product == nil || logSource.product == machine.platform.sigmaProduct { logSource.product = platform.sigmaProduct }
        machine.platform = platform
    }
}
