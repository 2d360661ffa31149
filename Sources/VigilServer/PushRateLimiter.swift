import VigilPipeline

/// A token bucket per push token: `perSecond` units (pushes, or events) a second on average,
/// bursts up to twice that. Used inside the `IngestService` actor, so it needs no lock of its own.
struct PushRateLimiter {
    private let perSecond: Double
    private let burst: Double
    private var buckets: [Int64: (tokens: Double, refilled: ContinuousClock.Instant)] = [:]

    /// `perSecond` 0 turns limiting off.
    init(perSecond: Int) {
        self.perSecond = Double(perSecond)
        burst = Double(perSecond * 2)
    }

    /// Nil when `cost` units may go ahead (and are counted); otherwise whole seconds to wait. A
    /// cost above the burst needs a full bucket.
    mutating func admit(tokenID: Int64, cost: Int = 1, now: ContinuousClock.Instant) -> Int? {
        guard perSecond > 0 else { return nil }
        let cost = min(Double(cost), burst)
        var bucket = buckets[tokenID] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.refilled).seconds * perSecond)
        bucket.refilled = now
        defer { buckets[tokenID] = bucket }
        guard bucket.tokens >= cost else { return max(1, Int(((cost - bucket.tokens) / perSecond).rounded(.up))) }
        bucket.tokens -= cost
        return nil
    }
}
