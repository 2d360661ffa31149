import Foundation
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilStore

/// The server's single writer: verifies push tokens and API keys, and commits pushed batches.
///
/// Batches that arrive while a commit is running are written together in the next
/// transaction (group commit, run by `GroupCommitService`), so many small pushes do not cost
/// one transaction each.
/// Correlation runs in the commit too, in arrival order, since its windows are shared state.
public actor IngestService {
    private let store: Store
    private let committer: BatchCommitter
    private var queue: [(batch: PushedBatch, continuation: CheckedContinuation<BatchOutcome, any Error>)] = []
    /// Wakes the group commit; many wake-ups while it commits coalesce into one.
    private let (commitRequests, commitSignal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// Whether any batch was committed, so shutdown has correlation state worth saving.
    private var committed = false
    private var rateLimiter: PushRateLimiter
    /// Events (records) per second each token may push, bursts up to twice that.
    private var eventLimiter: PushRateLimiter
    public let metrics = ServerMetrics()

    /// Opens the writer connection on `path` (migrating it) and loads saved correlation windows.
    public init(databasePath: String, ruleSet: RuleSet, pushesPerSecond: Int = 100, eventsPerSecond: Int = 50_000, maxFutureSkew: Duration = .seconds(86_400)) throws {
        rateLimiter = PushRateLimiter(perSecond: pushesPerSecond)
        eventLimiter = PushRateLimiter(perSecond: eventsPerSecond)
        store = try Store(path: databasePath)
        committer = BatchCommitter(writer: StoreWriter(store: store), correlator: Correlator(ruleSet: ruleSet, maxFutureSkew: maxFutureSkew))
        let windows = committer.correlator.windows
        if !windows.isEmpty { try windows.importState(store.correlationState()) }
    }

    /// The integration a push token belongs to, or why it may not push.
    public func authorizePush(token: String?) throws -> Result<(tokenID: Int64, integration: IngestGate.IntegrationState), IngestGate.TokenRefusal> {
        let store = self.store
        var knownTokenIntegration: String?
        let verdict = try IngestGate.verify(
            presented: token, now: .now(),
            lookup: { hash in
                let stored = try store.storedToken(hash: hash).map {
                    StoredToken(id: $0.id, integration: $0.integration, hash: $0.hash, expiresAt: $0.expiresAt, revokedAt: $0.revokedAt)
                }
                knownTokenIntegration = stored?.integration
                return stored
            },
            integration: { name in try store.integration(named: name).map { IngestGate.IntegrationState(name: $0.name, enabled: $0.enabled, formats: $0.formats) } })
        switch verdict {
        case .success(let stored):
            if let wait = rateLimiter.admit(tokenID: stored.id, now: .now) { return .failure(.rateLimited(retryAfterSeconds: wait)) }
            try store.markTokenUsed(id: stored.id)
            guard let integration = try store.integration(named: stored.integration) else { return .failure(.unknown) }
            return .success((stored.id, IngestGate.IntegrationState(name: integration.name, enabled: integration.enabled, formats: integration.formats)))
        case .failure(let refusal):
            // A token Vigil issued but no longer accepts (revoked, expired, its integration off or
            // offboarded) is counted and audited against its integration, as the CLI's refusals are.
            if let integration = knownTokenIntegration {
                try recordRefusal(integration: integration, reason: refusal.description)
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
    public func recordRefusal(integration: String, reason: String) throws {
        metrics.refused(integration: integration)
        try store.recordRefusedIngest(integration: integration, actor: "http", reason: reason)
    }

    /// The API key with this text (its name and whether it is an admin key), or nil when it
    /// is unknown or revoked.
    public func authorizeAPIKey(_ key: String?) throws -> (name: String, admin: Bool)? {
        guard let key, key.hasPrefix(APIKey.prefix) else { return nil }
        let digest = AccessToken.hash(key)
        guard let stored = try store.useAPIKey(hash: digest), AccessToken.constantTimeEqual(stored.hash, digest) else { return nil }
        return (stored.name, stored.admin)
    }

    /// Turns an integration on or off (off revokes its tokens); audited with the key's name.
    public func setIntegration(_ name: String, enabled: Bool, actor: String) throws {
        try store.setIntegration(name, enabled: enabled, actor: actor)
    }

    /// Issues a push token for an integration that is on; the token is returned once.
    public func issueToken(integration: String, validFor seconds: Int64, actor: String) throws -> (id: Int64, token: String, expires: Timestamp) {
        let (token, hash) = AccessToken.generate()
        let expires = Timestamp(microseconds: Timestamp.now().microseconds + seconds * 1_000_000)
        let id = try store.createToken(integration: integration, hash: hash, expiresAt: expires, actor: actor)
        return (id, token, expires)
    }

    /// Triage over HTTP goes through the writer connection too.
    public func updateAlert(id: Int64, _ update: AlertUpdate, actor: String) throws -> Int {
        try store.updateAlerts(ids: [id], update, actor: actor)
    }

    /// Commits a pushed batch and returns what it did. Its token is checked again inside the
    /// write transaction; a token revoked or expired, or an integration turned off, while the
    /// body streamed in throws `IngestGate.TokenRefusal.invalidatedDuringPush`, and nothing of
    /// the batch is stored. The group-commit service (`GroupCommitService`) must be running.
    public func submit(_ batch: PushedBatch) async throws -> BatchOutcome {
        try await withCheckedThrowingContinuation { continuation in
            queue.append((batch, continuation))
            metrics.queueDepth = queue.count
            commitSignal.yield()
        }
    }

    /// Commits what is queued each time a batch arrives, until `stopGroupCommit`; batches that
    /// arrived during a commit go together into the next transaction.
    func runGroupCommit() async {
        for await _ in commitRequests { flush() }
        flush()
    }

    /// Ends `runGroupCommit` once what is queued has been committed.
    nonisolated func stopGroupCommit() { commitSignal.finish() }

    private func flush() {
        while !queue.isEmpty {
            let work = queue
            queue.removeAll()
            metrics.queueDepth = 0
            let started = ContinuousClock.now
            let batches = work.map(\.batch)
            do {
                // Correlation runs inside the transaction, only on batches whose token still holds.
                let outcomes = try committer.write(batches: batches)
                committed = true
                metrics.recordBatch(seconds: (ContinuousClock.now - started).seconds, batches: batches, outcomes: outcomes)
                for (entry, outcome) in zip(work, outcomes) {
                    if let outcome {
                        entry.continuation.resume(returning: outcome)
                    } else {
                        let refusal = IngestGate.TokenRefusal.invalidatedDuringPush(entry.batch.integration)
                        try? recordRefusal(integration: entry.batch.integration, reason: refusal.description)
                        entry.continuation.resume(throwing: refusal)
                    }
                }
            } catch {
                for entry in work { entry.continuation.resume(throwing: error) }
            }
        }
    }

    /// Saves correlation windows; called at shutdown after in-flight requests finished.
    public func shutdown() throws {
        let windows = committer.correlator.windows
        if committed, !windows.isEmpty { try store.saveCorrelationState(windows.exportState()) }
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
