import Foundation
import HTTPTypes
import NIOPosix
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

/// The server's database side: verifies push tokens and API keys, administers integrations,
/// triages, and commits pushed batches through the single writer.
///
/// No SQLite work runs on this actor or on the cooperative pool: token and key checks
/// (`checks`, reads) and administration and triage (`control`) each use a connection of their
/// own on the blocking pool, and commits use the writer's connection on a thread of its own
/// (`writer`), so a long commit delays neither an API key check nor a read. Batches that arrive while a commit is running are written together
/// in the next transaction (group commit, run by `GroupCommitService`), so many small pushes do
/// not cost one transaction each. Correlation runs in the commit too, in arrival order, since
/// its windows are shared state.
public actor IngestService {
    /// The writer's connection and the commit stage on it.
    final class WriterSide {
        /// Where the correlation windows are saved at shutdown.
        let state: any ImportTarget
        let committer: BatchCommitter

        init(state: any ImportTarget, committer: BatchCommitter) {
            self.state = state
            self.committer = committer
        }
    }

    /// Token and key checks: reads (a key's use is written at most once a minute).
    private let checks: SerialDatabase<any IntegrationsAndTokens>
    /// Administration, triage, refusals and token use: writes, which wait for the writer's lock.
    private let control: SerialDatabase<ControlStore>
    private let writer: SerialDatabase<WriterSide>
    private let writerThread: NIOThreadPool
    private var queue: [(batch: PushedBatch, continuation: CheckedContinuation<PushOutcome, any Error>)] = []
    /// Wakes the group commit; many wake-ups while it commits coalesce into one.
    private let (commitRequests, commitSignal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// Whether any batch was committed, so shutdown has correlation state worth saving.
    private var committed = false
    private var rateLimiter: PushRateLimiter
    /// Events (records) per second each token may push, bursts up to twice that.
    private var eventLimiter: PushRateLimiter
    public let metrics = ServerMetrics()
    /// Rejected records a push's reply lists, at most (all of them are stored).
    public static let rejectedSampleLimit = 100

    /// Opens the writer connection on `path` (migrating it) and a control connection, and loads
    /// saved correlation windows.
    public init(databasePath: String, ruleSet: RuleSet, pushesPerSecond: Int = 100, eventsPerSecond: Int = 50_000, maxFutureSkew: Duration = .seconds(86_400)) throws {
        rateLimiter = PushRateLimiter(perSecond: pushesPerSecond)
        eventLimiter = PushRateLimiter(perSecond: eventsPerSecond)
        let store = try Store(path: databasePath)
        let committer = BatchCommitter(writer: StoreWriter(store: store), correlator: Correlator(ruleSet: ruleSet, maxFutureSkew: maxFutureSkew))
        let windows = committer.correlator.windows
        if !windows.isEmpty { try windows.importState(store.correlationState()) }
        writerThread = NIOThreadPool(numberOfThreads: 1)
        writerThread.start()
        writer = SerialDatabase(WriterSide(state: store, committer: committer), pool: writerThread)
        checks = SerialDatabase(try Store(readingAt: databasePath))
        control = SerialDatabase(try Store(readingAt: databasePath))
    }

    /// An ingest node on a store that other nodes share (PostgreSQL): `backend` holds a
    /// connection for each side. The correlation windows are the correlator node's
    /// (`CorrelatorNode`), so this node queues what feeds them.
    public init(backend: IngestBackend, ruleSet: RuleSet, pushesPerSecond: Int = 100, eventsPerSecond: Int = 50_000,
                maxFutureSkew: Duration = .seconds(86_400)) {
        rateLimiter = PushRateLimiter(perSecond: pushesPerSecond)
        eventLimiter = PushRateLimiter(perSecond: eventsPerSecond)
        let committer = BatchCommitter(writer: backend.writer, correlator: Correlator(ruleSet: ruleSet, maxFutureSkew: maxFutureSkew),
                                       correlationQueue: backend.correlationQueue)
        writerThread = NIOThreadPool(numberOfThreads: 1)
        writerThread.start()
        writer = SerialDatabase(WriterSide(state: backend.state, committer: committer), pool: writerThread)
        checks = SerialDatabase(backend.checks)
        control = SerialDatabase(backend.control)
    }

    /// The integration a push token belongs to, or why it may not push.
    public func authorizePush(token: String?) async throws
        -> Result<(tokenID: Int64, integration: IngestGate.IntegrationState, machines: HostPatterns), IngestGate.TokenRefusal> {
        let (verdict, knownTokenIntegration) = try await checks.run { store in
            var knownTokenIntegration: String?
            let verdict = try IngestGate.verify(
                presented: token, now: .now(),
                lookup: { hash in
                    let stored = try store.storedToken(hash: hash).map {
                        StoredToken(id: $0.id, integration: $0.integration, hash: $0.hash, expiresAt: $0.expiresAt, revokedAt: $0.revokedAt,
                                    machines: HostPatterns($0.machines))
                    }
                    knownTokenIntegration = stored?.integration
                    return stored
                },
                integration: { name in try store.integration(named: name)?.gateState })
            return (verdict, knownTokenIntegration)
        }
        switch verdict {
        case .success(let stored):
            if let wait = rateLimiter.admit(tokenID: stored.id, now: .now) { return .failure(.rateLimited(retryAfterSeconds: wait)) }
            // Reads only: the token's use is recorded with the batch it delivers, in the write transaction.
            let integration = try await checks.run { store in
                try store.integration(named: stored.integration)?.gateState
            }
            guard let integration else { return .failure(.unknown) }
            return .success((stored.id, integration, stored.machines))
        case .failure(let refusal):
            // A token Vigil issued but no longer accepts (revoked, expired, its integration off or
            // offboarded) is counted and audited against its integration, as the CLI's refusals are.
            if let integration = knownTokenIntegration {
                try await recordRefusal(integration: integration, reason: refusal.description)
            }
            return .failure(refusal)
        }
    }

    /// Charges a read push's records to its token's event budget: nil when it may be
    /// committed, else whole seconds to wait (the push is then refused whole).
    public func chargeEvents(tokenID: Int64, records: Int) -> Int? {
        eventLimiter.admit(tokenID: tokenID, cost: records, now: .now)
    }

    /// Counts and audits a refused push.
    public func recordRefusal(integration: String, reason: String) async throws {
        metrics.refused(integration: integration)
        try await control.run { try $0.recordRefusedIngest(integration: integration, actor: "http", reason: reason) }
    }

    /// The API key with this text (its name and whether it is an admin key), or nil when it
    /// is unknown, revoked or expired.
    public func authorizeAPIKey(_ key: String?) async throws -> (name: String, admin: Bool)? {
        guard let key, key.hasPrefix(APIKey.prefix) else { return nil }
        return try await authorizeAPIKey(hash: AccessToken.hash(key))
    }

    /// The API key whose SHA-256 is `digest` (a console session keeps only that), or nil when it
    /// is unknown, revoked or expired.
    public func authorizeAPIKey(hash digest: [UInt8]) async throws -> (name: String, admin: Bool)? {
        guard let stored = try await checks.run({ try $0.useAPIKey(hash: digest) }), AccessToken.constantTimeEqual(stored.hash, digest) else {
            return nil
        }
        return (stored.name, stored.admin)
    }

    /// Turns an integration on or off (off revokes its tokens); audited with the key's name.
    public func setIntegration(_ name: String, enabled: Bool, actor: String) async throws {
        try await control.run { try $0.setIntegration(name, enabled: enabled, actor: actor) }
    }

    /// Issues a push token for an integration that is on; the token is returned once.
    public func issueToken(integration: String, validFor seconds: Int64, machines: [String], actor: String) async throws
        -> (id: Int64, token: String, expires: Timestamp) {
        let (token, hash) = AccessToken.generate()
        let expires = Timestamp(microseconds: Timestamp.now().microseconds + seconds * 1_000_000)
        let id = try await control.run { try $0.createToken(integration: integration, hash: hash, expiresAt: expires, machines: machines, actor: actor) }
        return (id, token, expires)
    }

    /// Runs an administrative or analyst's change (subscriptions, console sessions, triage) on
    /// the control connection; the store audits it.
    func onControl<T: Sendable>(_ body: @escaping @Sendable (ControlStore) throws -> T) async throws -> T {
        try await control.run(body)
    }

    /// Applies an analyst's change to one alert; audited.
    public func updateAlert(id: Int64, _ update: AlertUpdate, actor: String) async throws -> Int {
        try await updateAlerts(ids: [id], update, actor: actor)
    }

    /// Applies an analyst's change to several alerts in one transaction; audited per alert.
    public func updateAlerts(ids: [Int64], _ update: AlertUpdate, actor: String) async throws -> Int {
        try await onControl { try $0.updateAlerts(ids: ids, update, actor: actor) }
    }

    /// Changes an incident's status, assignee or classification, or comments on it; audited.
    public func updateIncident(id: Int64, status: String?, assignedTo: String?, classification: String?, comment: String?, actor: String) async throws {
        try await onControl {
            try $0.updateIncident(id: id, status: status, assignedTo: assignedTo, classification: classification, comment: comment, actor: actor)
        }
    }

    /// Revokes one push token of an integration; audited.
    public func revokeToken(integration: String, id: Int64, actor: String) async throws {
        try await control.run { try $0.revokeToken(integration: integration, id: id, actor: actor) }
    }

    /// Raises a custom detection's alerts for the rows its query read, on the writer's thread,
    /// and records the run.
    func raise(_ detection: CustomDetection, rows: [CustomDetectionRow], truncated: Bool, ranAt: Timestamp) async throws -> CustomDetectionOutcome {
        try await writer.run { try $0.committer.raise(detection, rows: rows, truncated: truncated, ranAt: ranAt) }
    }

    /// Records a custom detection's failed run and schedules its next.
    func recordFailedRun(_ detection: CustomDetection, reason: String, ranAt: Timestamp) async throws {
        try await writer.run { try $0.committer.recordFailedRun(detection, reason: reason, ranAt: ranAt) }
    }

    /// Commits a push, reading it batch by batch in the write transaction, and returns what it
    /// did. Its token is checked again inside the write transaction; a token revoked or
    /// expired, or an integration turned off, while the body streamed in throws
    /// `IngestGate.TokenRefusal.invalidatedDuringPush`, and nothing of the push is stored. The
    /// group-commit service (`GroupCommitService`) must be running.
    public func submit(_ batch: PushedBatch) async throws -> PushOutcome {
        try await withCheckedThrowingContinuation { continuation in
            queue.append((batch, continuation))
            metrics.queueDepth = queue.count
            commitSignal.yield()
        }
    }

    /// Commits what is queued each time a batch arrives, until `stopGroupCommit`; batches that
    /// arrived during a commit go together into the next transaction.
    func runGroupCommit() async {
        for await _ in commitRequests { await flush() }
        await flush()
    }

    /// Ends `runGroupCommit` once what is queued has been committed.
    nonisolated func stopGroupCommit() { commitSignal.finish() }

    private func flush() async {
        while !queue.isEmpty {
            let work = queue
            queue.removeAll()
            metrics.queueDepth = 0
            let started = ContinuousClock.now
            let batches = work.map(\.batch)
            do {
                // Correlation runs inside the transaction, only on batches whose token still holds.
                let outcomes = try await writer.run { try $0.committer.write(batches: batches, rejectedSampleLimit: Self.rejectedSampleLimit) }
                committed = true
                metrics.recordBatch(seconds: (ContinuousClock.now - started).seconds, batches: batches, outcomes: outcomes)
                for (entry, outcome) in zip(work, outcomes) {
                    if let outcome {
                        entry.continuation.resume(returning: outcome)
                    } else {
                        let refusal = IngestGate.TokenRefusal.invalidatedDuringPush(entry.batch.integration)
                        try? await recordRefusal(integration: entry.batch.integration, reason: refusal.description)
                        entry.continuation.resume(throwing: refusal)
                    }
                }
            } catch {
                for entry in work { entry.continuation.resume(throwing: error) }
            }
        }
    }

    /// Saves correlation windows and stops the writer's thread; called at shutdown after
    /// in-flight requests finished and the queue was committed.
    public func shutdown() async throws {
        if committed {
            try await writer.run { side in
                let windows = side.committer.correlator.windows
                if !windows.isEmpty, side.committer.correlationQueue == nil { try side.state.saveCorrelationState(windows.exportState()) }
            }
        }
        try await writerThread.shutdownGracefully()
    }
}

/// What the control connection does: integrations and tokens, triage, delivery subscriptions and
/// console sessions, each audited by the store. Both stores are all of these.
public typealias ControlStore = any IntegrationsAndTokens & AlertTriage & DeliveryStore & ConsoleSessionStore

/// The connections of an ingest node on a shared store, one per side of `IngestService`.
///
/// Unchecked: each is used by one thread at a time, inside `IngestService`'s serial databases.
public struct IngestBackend: @unchecked Sendable {
    public var writer: any BatchWriter
    public var correlationQueue: (any CorrelationQueue)?
    public var state: any ImportTarget
    public var checks: any IntegrationsAndTokens
    public var control: ControlStore

    public init(writer: any BatchWriter, correlationQueue: (any CorrelationQueue)?, state: any ImportTarget,
                checks: any IntegrationsAndTokens, control: ControlStore) {
        self.writer = writer
        self.correlationQueue = correlationQueue
        self.state = state
        self.checks = checks
        self.control = control
    }
}

/// Read and triage keys for the HTTP API: `vglk_` + 256 random bits. Only their hash is stored.
public enum APIKey {
    public static let prefix = "vglk_"

    /// A new key and the hash to store.
    public static func generate() -> (key: String, hash: [UInt8]) {
        let (token, _) = AccessToken.generate()
        let key = prefix + token.dropFirst(AccessToken.prefix.count)
        return (key, AccessToken.hash(key))
    }
}
