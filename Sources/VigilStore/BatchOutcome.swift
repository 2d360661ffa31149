/// What writing one batch did.
public struct BatchOutcome: Sendable, Equatable {
    public var stored = 0
    public var duplicates = 0
    public var rejected = 0
    /// New alerts opened.
    public var alertsRaised = 0
    /// Detections folded into an alert that was already open.
    public var alertsUpdated = 0
    /// Stored events dated more than the allowed skew in the future (flagged `future_time`).
    public var futureDated = 0
    /// Stored events whose record had no readable time: dated at ingest (`vigil_ingest_time`).
    public var ingestTimed = 0

    public init() {}

    public static func += (lhs: inout BatchOutcome, rhs: BatchOutcome) {
        lhs.stored += rhs.stored
        lhs.duplicates += rhs.duplicates
        lhs.rejected += rhs.rejected
        lhs.alertsRaised += rhs.alertsRaised
        lhs.futureDated += rhs.futureDated
        lhs.ingestTimed += rhs.ingestTimed
        lhs.alertsUpdated += rhs.alertsUpdated
    }
}
