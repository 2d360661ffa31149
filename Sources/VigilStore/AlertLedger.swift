import VigilModel

/// What the Correlator asks about alerts already stored, to decide a detection. A write
/// transaction's reads: the answers include what the same transaction wrote before.
///
/// Times are event times; windows are inclusive at both ends.
public protocol AlertLedger: AnyObject {
    /// The open alert (`new` or `in_progress`) of this rule, machine and dedupe key that a
    /// detection from `firstTime` to `time` can join: its events and the detection's would
    /// span at most `window`. The latest such alert, or nil.
    func openAlert(rule: String, machineID: Int64, dedupeKey: String, firstTime: Timestamp, time: Timestamp,
                   window: Duration) throws -> Int64?

    /// The latest alert of this rule, machine and dedupe key, whatever its status.
    func latestAlert(rule: String, machineID: Int64, dedupeKey: String) throws -> Int64?

    /// The incident of the latest alert on `machineID` whose events come within `window` of
    /// `time` (of two as late, the newer incident).
    func incidentOnMachine(_ machineID: Int64, near time: Timestamp, window: Duration) throws -> Int64?

    /// The incident of the latest alert on another machine that carried `indicator` within
    /// `window` of `time` (of two as late, the newer incident), with that machine's hostname.
    /// Chosen by order, not left to the query plan: PostgreSQL's plan changes with its
    /// statistics, and an unordered `LIMIT 1` with it.
    func incidentSharing(_ indicator: Indicator, otherThan machineID: Int64, near time: Timestamp,
                         window: Duration) throws -> (incident: Int64, hostname: String)?

    /// The incident of the latest alert of rule `rule` on another machine within `window` of
    /// `time` (of two as late, the newer incident), with that machine's hostname.
    func incidentOfRule(_ rule: String, otherThan machineID: Int64, near time: Timestamp,
                        window: Duration) throws -> (incident: Int64, hostname: String)?
}

/// Writes the Correlator's decisions.
public protocol AlertUpserts: AnyObject {
    /// Applies `upsert` for the stored event `eventID`, linking the event to the alert.
    /// Returns the alert's id.
    @discardableResult
    func apply(_ upsert: AlertUpsert, eventID: Int64) throws -> Int64
}
