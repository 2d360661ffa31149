import VigilDetection
import VigilModel
import VigilStore

/// The commit stage of the pipeline: in one write transaction per call, it runs the
/// Correlator over a batch in input order and has the writer store the events, the
/// Correlator's alert decisions and the rejected records. A batch commits whole or not at all.
public final class BatchCommitter {
    /// The writer every batch goes to.
    public let writer: any BatchWriter
    public let correlator: Correlator
    /// Where detections that feed correlation rules go when another node keeps the windows
    /// (several nodes on PostgreSQL); nil when the windows are the Correlator's, here.
    public let correlationQueue: (any CorrelationQueue)?

    /// `correlationQueue`: set it to leave the correlation windows to the node that holds the
    /// correlator role (`CorrelatorNode`); this one then raises only each event's own detections.
    public init(writer: any BatchWriter, correlator: Correlator, correlationQueue: (any CorrelationQueue)? = nil) {
        self.writer = writer
        self.correlator = correlator
        self.correlationQueue = correlationQueue
    }

    /// A committer on `store`'s writer with a Correlator of no correlation rules (tests, fixtures).
    public convenience init(store: Store, dedupeWindow: Duration = .seconds(3600), policy: IncidentPolicy = IncidentPolicy()) {
        self.init(writer: StoreWriter(store: store),
                  correlator: Correlator(ruleSet: RuleSet(rules: []), dedupeWindow: dedupeWindow, policy: policy))
    }

    /// Records the start of an import and returns its id.
    public func beginImport(source: String, format: String, integration: String) throws -> Int64 {
        try writer.beginImport(source: source, format: format, integration: integration)
    }

    /// Records the end of an import.
    public func finishImport(id: Int64, failed: Bool) throws {
        try writer.finishImport(id: id, failed: failed)
    }

    /// Correlates and writes `items` and `rejected`, read from `recordsRead` records, in one
    /// transaction that also adds them to the import's totals: after a crash, the row counts
    /// what was committed.
    public func write(_ items: [BatchItem], rejected: [RejectedRecord], recordsRead: Int, importID: Int64?) throws -> BatchOutcome {
        try writer.transaction { try commit(items, rejected: rejected, recordsRead: recordsRead, importID: importID) }
    }

    /// Writes several pushes (concurrent HTTP pushes) in one transaction, each recorded as its
    /// own import and read from its body batch by batch; one outcome per push, in order, nil for
    /// a push whose token is no longer valid at the commit (revoked, expired, or its integration
    /// turned off while its body streamed in): nothing of that push is read, stored or
    /// correlated. The transaction holds SQLite's write lock from its start (on PostgreSQL,
    /// key-share locks on the token's and integration's rows, which toggles and revocations
    /// wait for), so none can slip in between the check and the commit. `rejectedSampleLimit`
    /// rejected records of each push are returned (all are stored).
    public func write(batches: [PushedBatch], rejectedSampleLimit: Int) throws -> [PushOutcome?] {
        try writer.transaction {
            try batches.map { batch -> PushOutcome? in
                if let tokenID = batch.tokenID {
                    guard try writer.tokenStillValid(tokenID) else { return nil }
                    try writer.recordTokenUse(tokenID)
                }
                let importID = try writer.beginImport(source: batch.source, format: batch.format, integration: batch.integration)
                var result = PushOutcome()
                func write(_ prepared: PreparedBatch) throws {
                    result.outcome += try commit(prepared.items, rejected: prepared.rejected, recordsRead: prepared.recordsRead, importID: importID)
                    result.recordsRead += prepared.recordsRead
                    result.rejectedSample += prepared.rejected.prefix(rejectedSampleLimit - result.rejectedSample.count)
                }
                if let first = batch.firstBatch { try write(first) }
                let reader = batch.reader.value
                // The rest of a push longer than two batches is read ahead on a second thread while the writer writes.
                try reader.forEachBatch(readingAhead: batch.records > 2 * reader.batchSize, write)
                result.skipped = reader.skippedRecords
                try writer.finishImport(id: importID, failed: false)
                return result
            }
        }
    }

    /// Stores the events first, so that the correlation windows name each event by the storage
    /// key it took (the key a correlation alert links it by), then correlates in input order and
    /// applies the detections of the events stored now. Items are read in place, never copied:
    /// the writer's thread bounds an import.
    private func commit(_ items: [BatchItem], rejected: [RejectedRecord], recordsRead: Int, importID: Int64?) throws -> BatchOutcome {
        var rejected = rejected
        let now = Timestamp.now()
        let futureAfter = correlator.futureAfter(now: now)
        let results = try writer.store(items, importID: importID, futureAfter: futureAfter)
        var outcome = BatchOutcome()
        var eventsByIntegration: [String: Int] = [:]
        var queued: [QueuedDetection] = []
        for index in items.indices {
            let stored: StoredEvent
            switch results[index] {
            case .stored(let event):
                stored = event
            case .duplicate(let key):
                // A re-imported event changes no window (its key is in there already) and raises nothing.
                if correlationQueue == nil {
                    _ = correlator.correlate(event: items[index].event, key: key, detections: items[index].detections, now: now)
                }
                outcome.duplicates += 1
                continue
            case .refused(let reason):
                rejected.append(RejectedRecord(line: items[index].event.line, reason: reason, raw: items[index].event.raw))
                continue
            }
            outcome.stored += 1
            if items[index].event.time > futureAfter { outcome.futureDated += 1 }
            if items[index].event.timeFromIngest { outcome.ingestTimed += 1 }
            eventsByIntegration[items[index].event.integration, default: 0] += 1
            guard !items[index].detections.isEmpty else { continue }
            let raised: [Detection]
            if correlationQueue != nil {
                raised = correlator.windows.ownDetections(items[index].detections)
                queued += queuedDetections(of: items[index], stored: stored, futureAfter: futureAfter)
            } else {
                raised = correlator.correlate(event: items[index].event, key: stored.key, detections: items[index].detections, now: now)
            }
            for detection in raised {
                let upsert = try correlator.decide(detection, event: items[index].event, machineID: stored.machineID, ledger: writer)
                try writer.apply(upsert, eventID: stored.eventID)
                if case .open = upsert { outcome.alertsRaised += 1 } else { outcome.alertsUpdated += 1 }
            }
        }
        if let correlationQueue, !queued.isEmpty { try correlationQueue.enqueue(queued) }
        outcome.rejected = rejected.count
        try writer.finishBatch(outcome, rejected: rejected, recordsRead: recordsRead, importID: importID,
                               eventsByIntegration: eventsByIntegration)
        return outcome
    }

    /// The detections of a stored event that feed correlation windows, for the correlator node;
    /// none for a future-dated event, which never enters a window.
    private func queuedDetections(of item: BatchItem, stored: StoredEvent, futureAfter: Timestamp) -> [QueuedDetection] {
        let windows = correlator.windows
        guard item.event.time <= futureAfter else { return [] }
        return item.detections.filter { windows.feeds($0.rule.id) }.map { detection in
            var fields: [String: String] = [:]
            for field in windows.correlatedFields(of: item.event, ruleID: detection.rule.id) { fields[field.key.name] = field.value }
            return QueuedDetection(eventID: stored.eventID, eventKey: stored.key, eventTime: item.event.time, machineID: stored.machineID,
                                   hostname: item.event.machine.hostname, integration: item.event.integration, ruleID: detection.rule.id,
                                   fields: fields, indicators: IncidentPolicy.indicators(of: item.event))
        }
    }
}
