import VigilModel

/// When delivery tries again after a failure: exponential backoff with jitter. A webhook entry
/// becomes a dead letter after `webhookAttempts` tries; syslog never gives up (the outbox keeps
/// what could not be sent, and forwarding resumes when the receiver is back).
public struct RetryPolicy: Sendable {
    /// The wait after the first failure; each further failure doubles it.
    public var firstDelay: Duration
    /// The longest wait between two tries.
    public var maxDelay: Duration
    /// Tries of one webhook entry before it is a dead letter.
    public var webhookAttempts: Int

    /// 1 s, doubling to at most 5 minutes; 10 webhook tries span about 4 to 9 minutes.
    public init(firstDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(300), webhookAttempts: Int = 10) {
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
        self.webhookAttempts = webhookAttempts
    }

    /// The wait after failed try number `attempt` (1 for the first): `firstDelay · 2^(attempt-1)`,
    /// capped at `maxDelay`, times a random factor in 0.5…1 so that many senders do not retry in step.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let doublings = min(max(attempt - 1, 0), 30)
        let uncapped = firstDelay * (1 << doublings)
        let capped = min(uncapped, maxDelay)
        return capped * Double.random(in: 0.5...1, using: &generator)
    }

    /// Whether a webhook entry tried `attempts` times is given up.
    public func isExhausted(webhookAttempts attempts: Int) -> Bool { attempts >= webhookAttempts }
}
