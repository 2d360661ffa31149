import VigilDetection
import VigilModel
import VigilStore

/// The correlator role on a store that several nodes share (PostgreSQL).
///
/// Ingest nodes raise each event's own detections in their push's transaction and queue the
/// detections that feed correlation rules (`BatchCommitter.correlationQueue`). One node at a
/// time holds the role (`CorrelationQueue.takeCorrelatorRole`): it restores the windows saved
/// in the store, then takes queued detections oldest event first and, in one transaction per
/// step, applies the correlation alerts they raise, saves the windows and deletes what it
/// applied. A node that dies mid-step commits nothing of it; the next holder restores the
/// windows as of the last step and takes the same detections again, so each is applied once.
///
/// All nodes must load the same rules: a queued detection of a rule this node does not load is
/// dropped, with nothing raised.
public final class CorrelatorNode {
    private let writer: any BatchWriter & CorrelationQueue
    private let ruleSet: RuleSet
    private let makeCorrelator: () -> Correlator
    private var correlator: Correlator
    private let rulesByID: [String: RuleInfo]
    private let correlationIDs: Set<String>
    /// Whether this node holds the role (it keeps it until its connection ends).
    public private(set) var holdsRole = false

    public init(writer: any BatchWriter & CorrelationQueue, ruleSet: RuleSet, dedupeWindow: Duration = .seconds(3600),
                policy: IncidentPolicy = IncidentPolicy(), maxFutureSkew: Duration = .seconds(86_400)) {
        self.writer = writer
        self.ruleSet = ruleSet
        makeCorrelator = { Correlator(ruleSet: ruleSet, dedupeWindow: dedupeWindow, policy: policy, maxFutureSkew: maxFutureSkew) }
        correlator = makeCorrelator()
        rulesByID = Dictionary(ruleSet.rules.map { ($0.info.id, $0.info) }, uniquingKeysWith: { first, _ in first })
        correlationIDs = Set(ruleSet.correlations.map(\.info.id))
    }

    /// Takes the role if it is free, then applies up to `limit` queued detections. Returns how
    /// many it applied, or nil when another node holds the role.
    public func step(limit: Int = 1_000) throws -> Int? {
        if !holdsRole {
            guard try writer.takeCorrelatorRole() else { return nil }
            holdsRole = true
            try restoreWindows()
        }
        do {
            return try writer.transaction {
                // Checked inside the transaction, which cannot reconnect: a lock lost with a
                // connection since the last step means another node may hold the role now.
                guard writer.holdsCorrelatorRole else {
                    throw StoreError(.unavailable, "the connection that held the correlator role was lost; taking the role again")
                }
                return try apply(try writer.claimQueued(limit: limit))
            }
        } catch {
            // The windows moved on in memory but nothing of the step committed: the next step
            // takes the role again (the connection, and its lock, may be gone) and restores them.
            holdsRole = false
            throw error
        }
    }

    private func restoreWindows() throws {
        correlator = makeCorrelator()
        try correlator.windows.importState(writer.correlationState())
    }

    private func apply(_ claimed: [QueuedDetection]) throws -> Int {
        guard !claimed.isEmpty else { return 0 }
        let now = Timestamp.now()
        for queued in claimed {
            guard let rule = rulesByID[queued.ruleID] else { continue }
            let event = Event(time: queued.eventTime, machine: MachineIdentity(hostname: queued.hostname), sourceFormat: "",
                              integration: queued.integration, logSource: LogSource(),
                              fields: queued.fields.sorted { $0.key < $1.key }.map { EventField(FieldKey($0.key), $0.value) }, raw: "", line: 0)
            let raised = correlator.correlate(event: event, key: queued.eventKey, detections: [Detection(rule: rule, matchedFields: [])], now: now)
            // The event's own detection was raised by the node that stored it; only correlations are raised here.
            for detection in raised where correlationIDs.contains(detection.rule.id) {
                let subject = AlertSubject(
                    machineID: queued.machineID, hostname: queued.hostname, integration: queued.integration, time: queued.eventTime,
                    dedupeKey: detection.rule.dedupeFields.map { event.value(of: $0) ?? "" }.joined(separator: "\u{1F}"))
                let upsert = try correlator.decide(detection, subject: subject, indicators: queued.indicators, ledger: writer)
                try writer.apply(upsert, eventID: queued.eventID)
            }
        }
        try writer.removeQueued(ids: claimed.map(\.id))
        try writer.saveCorrelationState(correlator.windows.exportState())
        return claimed.count
    }
}
