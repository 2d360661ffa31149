import AsyncHTTPClient
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import VigilModel
import VigilPipeline
import VigilStore

/// Sends the outbox to every subscription: `vigil serve` runs it as a service, `vigil deliver`
/// drains it once. Each subscription goes in outbox order from its cursor, which moves only
/// after the receiver took the message, so a crash anywhere loses nothing: the next run sends
/// again what was not marked (at least once; receivers deduplicate on the event id).
///
/// A worker leases each subscription it works on (`leaseTime`), so two workers on one database
/// (two `vigil serve` nodes on one PostgreSQL store, or a server and `vigil deliver`) never send
/// the same subscription at once; a lease left by a killed worker of the same name is taken
/// back at once, another's after it runs out.
public final class DeliveryWorker: Sendable {
    /// The lease a worker holds on a subscription while it sends; renewed on every pass and
    /// every delivered message.
    public static let leaseTime: Duration = .seconds(30)
    /// Outbox entries read per subscription and pass.
    static let batchSize = 500

    private let database: SerialDatabase<any DeliveryStore>
    private let thread: NIOThreadPool
    private let client: HTTPClient
    private let webhooks: WebhookSender
    private let syslog = SyslogSender()
    /// The lease holder's name: `serve@host` (`serve@host:port` for a node on a shared store),
    /// `deliver@host` or `test@host`.
    public let name: String
    private let policy: RetryPolicy
    private let hostname: String
    private let logger: Logger
    /// The server's counters (`/metrics`), when a server runs this worker.
    private let metrics: ServerMetrics?

    /// A worker on `store`, a connection of its own, called `role@hostname` (with `:instance`
    /// when several workers of one host share the store).
    public init(store: any DeliveryStore, role: String, instance: String? = nil, policy: RetryPolicy = RetryPolicy(),
                metrics: ServerMetrics? = nil, logger: Logger) {
        // A thread of its own, as the writer has: delivery never takes one of the shared
        // blocking pool's threads, which serve requests' reads and key checks.
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        self.thread = thread
        database = SerialDatabase(store, pool: thread)
        client = WebhookSender.makeClient()
        webhooks = WebhookSender(client: client)
        hostname = ProcessInfo.processInfo.hostName
        name = "\(role)@\(hostname)" + (instance.map { ":\($0)" } ?? "")
        self.policy = policy
        self.metrics = metrics
        self.logger = logger
    }

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        public var sent = 0
        public var failed = 0
        public var deadLettered = 0
    }

    /// Sends what is due now to every subscription, each in its own task (a slow receiver
    /// delays no other).
    @discardableResult
    public func deliverDue() async throws -> Pass {
        let worker = name
        let due = try await database.run { try $0.subscriptionsDue(now: .now(), worker: worker) }
        return try await withThrowingTaskGroup(of: (String, Pass).self) { group in
            for subscription in due { group.addTask { (subscription.name, try await self.deliver(subscription)) } }
            return try await group.reduce(into: Pass()) { total, done in
                let (name, pass) = done
                metrics?.recordDelivery(subscription: name, pass)
                total.sent += pass.sent
                total.failed += pass.failed
                total.deadLettered += pass.deadLettered
            }
        }
    }

    /// Runs passes until the task is cancelled or the service shuts down: the next at once
    /// while passes deliver (a backlog drains at full speed), else after `interval`.
    public func run(interval: Duration) async {
        while !Task.isCancelled {
            do {
                if try await deliverDue().sent > 0 { continue }
            } catch is CancellationError {
                break  // the server is shutting down
            } catch {
                logger.error("delivery pass failed: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Delivers until every enabled subscription has caught up with the outbox, waiting for
    /// retries, or until `deadline`. Returns the subscriptions still behind.
    public func drain(until deadline: ContinuousClock.Instant, interval: Duration = .milliseconds(200)) async throws -> [SubscriptionRow] {
        while true {
            let sent = try await deliverDue().sent
            let behind = try await database.run { store in try store.subscriptions().filter { $0.enabled && $0.backlog > 0 } }
            if behind.isEmpty || ContinuousClock.now >= deadline { return behind }
            // Straight on while passes deliver; a pause while receivers fail.
            if sent == 0 { try await Task.sleep(for: interval) }
        }
    }

    /// Sends a test message to subscription `name` now, outside the outbox; audited.
    public func test(_ subscriptionName: String, actor: String) async throws -> String {
        guard let subscription = try await database.run({ try $0.subscription(named: subscriptionName) }) else {
            throw DeliveryFailure("there is no subscription '\(subscriptionName)'; see `vigil notify list`")
        }
        let message = subscription.spec.testMessage(hostname: hostname)
        let outcome: String
        do {
            try await send([message], to: subscription)
            outcome = "delivered to \(subscription.target)"
        } catch {
            outcome = "failed: \(error)"
        }
        try await database.run { try $0.recordSubscriptionTest(subscriptionName, outcome: outcome, actor: actor) }
        return outcome
    }

    /// Gives back this worker's leases and closes its HTTP client.
    public func shutdown() async {
        let worker = name
        try? await database.run { try $0.releaseSubscriptionLeases(worker: worker) }
        try? await client.shutdown()
        try? await thread.shutdownGracefully()
    }

    private func deliver(_ subscription: SubscriptionRow) async throws -> Pass {
        let worker = name
        let leased = try await database.run { store in
            try store.leaseSubscription(subscription.id, worker: worker, now: .now(), until: .now() + Self.leaseTime)
        }
        guard leased else { return Pass() }
        let hostname = hostname
        let entries = try await database.run { try $0.outbox(after: subscription.cursor, limit: Self.batchSize) }
        guard let last = entries.last else { return Pass() }
        let wanted = entries.filter(subscription.filter.wants)
        var pass = Pass()
        switch subscription.transport {
        case .syslog:
            // One connection per batch, confirmed by the receiver's close; resent whole on failure.
            if !wanted.isEmpty {
                do {
                    try await send(wanted.map { subscription.spec.message(for: $0, hostname: hostname) }, to: subscription)
                } catch {
                    _ = try await recordFailure(subscription, attempts: subscription.attempts + 1, headID: wanted[0].id, error: error, pass: &pass)
                    return pass
                }
            }
            pass.sent = wanted.count
        case .webhook:
            var attempts = subscription.attempts
            for entry in wanted {
                do {
                    try await send([subscription.spec.message(for: entry, hostname: hostname)], to: subscription)
                } catch {
                    attempts += 1
                    let deadLettered = try await recordFailure(subscription, attempts: attempts, headID: entry.id, error: error, pass: &pass)
                    // A dead letter moved the cursor past its entry: go on with the next one.
                    guard deadLettered else { return pass }
                    attempts = 0
                    continue
                }
                try await database.run {
                    try $0.advanceSubscription(subscription.id, through: entry.id, sent: 1, worker: worker, now: .now(), leaseUntil: .now() + Self.leaseTime)
                }
                pass.sent += 1
                attempts = 0
            }
        }
        let sent = subscription.transport == .syslog ? pass.sent : 0
        try await database.run {
            try $0.advanceSubscription(subscription.id, through: last.id, sent: sent, worker: worker, now: .now(), leaseUntil: .now() + Self.leaseTime)
        }
        return pass
    }

    /// Records a failed try of entry `headID`: a retry later, or (a webhook out of tries) a dead
    /// letter. Returns whether it became a dead letter.
    private func recordFailure(_ subscription: SubscriptionRow, attempts: Int, headID: Int64, error: any Error,
                               pass: inout Pass) async throws -> Bool {
        let worker = name, message = String(describing: error)
        pass.failed += 1
        if subscription.transport == .webhook, policy.isExhausted(webhookAttempts: attempts) {
            logger.error("subscription \(subscription.name): outbox entry \(headID) is a dead letter after \(attempts) tries: \(message)")
            try await database.run {
                try $0.deadLetter(subscription.id, outboxID: headID, attempts: attempts, error: message, worker: worker, now: .now())
            }
            pass.deadLettered += 1
            return true
        }
        var generator = SystemRandomNumberGenerator()
        let retryAt = Timestamp.now() + policy.delay(afterAttempt: attempts, using: &generator)
        logger.warning("subscription \(subscription.name): try \(attempts) of outbox entry \(headID) failed, next at \(retryAt.iso8601): \(message)")
        try await database.run {
            try $0.recordDeliveryFailure(subscription.id, error: message, retryAt: retryAt, worker: worker, now: .now())
        }
        return false
    }

    private func send(_ messages: [DeliveryMessage], to subscription: SubscriptionRow) async throws {
        switch subscription.transport {
        case .webhook:
            for message in messages { try await webhooks.send(message, to: subscription.target, secret: subscription.secret) }
        case .syslog:
            guard let address = SyslogAddress(subscription.target) else {
                throw DeliveryFailure("'\(subscription.target)' is not HOST:PORT")
            }
            try await syslog.send(messages, to: address, tls: subscription.tls, caFile: subscription.caFile)
        }
    }
}

/// The delivery worker as a service of `vigil serve`: it stops with the server and gives back its leases.
struct DeliveryService: Service {
    let worker: DeliveryWorker
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await worker.run(interval: interval)
        }
        await worker.shutdown()
    }
}
