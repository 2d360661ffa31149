import VigilPipeline

/// A token bucket per push token: `perSecond` pushes a second on average, bursts up to twice
/// that. Used inside the `IngestService` actor, so it needs no lock of its own.
struct PushRateLimiter {
    private let perSecond: Double
    private let burst: Double
    private var buckets: [Int64: (tokens: Double, refilled: ContinuousClock.Instant)] = [:]

    /// `perSecond` 0 turns limiting off.
    init(perSecond: Int) {
        self.perSecond = Double(perSecond)
        burst = Double(perSecond * 2)
    }

    /// Nil when the push may go ahead (and is counted); otherwise whole seconds to wait.
    mutating func admit(tokenID: Int64, now: ContinuousClock.Instant) -> Int? {
        guard perSecond > 0 else { return nil }
        var bucket = buckets[tokenID] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.refilled).seconds * perSecond)
        bucket.refilled = now
        defer { buckets[tokenID] = bucket }
        guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up))) }
        bucket.tokens -= 1
        return nil
    }
}
