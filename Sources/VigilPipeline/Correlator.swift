import VigilDetection
import VigilModel
import VigilStore

/// The Correlator: turns detections into alert decisions.
///
/// - Sigma correlation rules' windows, on event time, in input order (`correlate`);
/// - a detection of a stored event: fold into an open alert of the same rule, machine and
///   dedupe key whose window (anchored on its first event) covers it, or open a new alert that
///   names the one it follows, in an incident chosen by `policy` (`decide`).
///
/// It reads what is stored only through `AlertLedger` and writes nothing: the writer applies
/// what it returns. Not thread-safe; the single writer's thread drives it.
public final class Correlator {
    /// The correlation rules' sliding windows.
    public let windows: CorrelationEngine
    /// A detection within this much event time of an open alert's first event folds into it.
    public let dedupeWindow: Duration
    /// How new alerts are grouped into incidents.
    public let policy: IncidentPolicy

    /// `maxFutureSkew`: how far after the wall clock an event may be dated and still enter a
    /// correlation window; later ones are stored and flagged `future_time`.
    public init(ruleSet: RuleSet, dedupeWindow: Duration = .seconds(3600), policy: IncidentPolicy = IncidentPolicy(),
                maxFutureSkew: Duration = .seconds(86_400)) {
        windows = CorrelationEngine(ruleSet: ruleSet, maxFutureSkew: maxFutureSkew)
        self.dedupeWindow = dedupeWindow
        self.policy = policy
    }

    /// Feeds one event's detections to the correlation windows; returns what to raise: its
    /// own detections (less those of rules correlated with `generate: false`) and any
    /// correlation that fired.
    public func correlate(event: Event, key: Int64, detections: [Detection], now: Timestamp) -> [Detection] {
        guard !detections.isEmpty, !windows.isEmpty else { return detections }
        return windows.process(event: event, key: key, detections: detections, now: now)
    }

    /// The latest event time that is not future-dated at `now`: later events are stored with
    /// `future_time` set and never enter a correlation window.
    public func futureAfter(now: Timestamp) -> Timestamp { windows.futureAfter(now: now) }

    /// Decides what `detection` of `event`, stored on machine `machineID`, does to the alerts.
    public func decide(_ detection: Detection, event: Event, machineID: Int64, ledger: some AlertLedger) throws -> AlertUpsert {
        let subject = AlertSubject(
            machineID: machineID, hostname: event.machine.hostname, integration: event.integration, time: event.time,
            dedupeKey: detection.rule.dedupeFields.map { event.value(of: $0) ?? "" }.joined(separator: "\u{1F}"))
        return try decide(detection, subject: subject, indicators: IncidentPolicy.indicators(of: event), ledger: ledger)
    }

    /// Decides what `detection` does to the alerts, for a subject that is not a parsed event (a
    /// custom detection's row names a stored one). `indicators` (file hashes and remote
    /// addresses, to group a new alert with others that share them) are read only for a new alert.
    public func decide(_ detection: Detection, subject: AlertSubject, indicators: @autoclosure () -> [Indicator],
                       ledger: some AlertLedger) throws -> AlertUpsert {
        let rule = detection.rule
        let time = subject.time
        let firstTime = min(detection.windowStart ?? time, time)
        if let open = try ledger.openAlert(rule: rule.id, machineID: subject.machineID, dedupeKey: subject.dedupeKey, firstTime: firstTime,
                                           time: time, window: dedupeWindow) {
            return .fold(AlertFold(alertID: open, firstEventTime: firstTime, lastEventTime: time,
                                   relatedEventKeys: detection.relatedEventKeys))
        }
        let indicators = indicators()
        return .open(NewAlert(
            rule: rule, machineID: subject.machineID, integration: subject.integration, dedupeKey: subject.dedupeKey,
            firstEventTime: firstTime, lastEventTime: time, matchedFields: detection.matchedFields,
            previousAlertID: try ledger.latestAlert(rule: rule.id, machineID: subject.machineID, dedupeKey: subject.dedupeKey),
            relatedEventKeys: detection.relatedEventKeys, indicators: indicators,
            incident: try incident(for: rule, subject: subject, indicators: indicators, ledger: ledger),
            title: detection.title, severity: detection.severity))
    }

    /// A new alert's incident: the machine's recent incident, else one that shares an
    /// indicator, else one where the same rule fired on another machine in a burst, else a new one.
    private func incident(for rule: RuleInfo, subject: AlertSubject, indicators: [Indicator], ledger: some AlertLedger) throws -> IncidentLink {
        let (machineID, hostname, time) = (subject.machineID, subject.hostname, subject.time)
        if let incident = try ledger.incidentOnMachine(machineID, near: time, window: policy.machineWindow) {
            return .join(id: incident, reason: "same machine \(hostname) within \(policy.machineWindow.reasonText)")
        }
        for indicator in indicators {
            if let match = try ledger.incidentSharing(indicator, otherThan: machineID, near: time, window: policy.indicatorWindow) {
                return .join(id: match.incident, reason: "\(hostname) shares \(indicator.kind) \(indicator.value) with \(match.hostname)")
            }
        }
        if let match = try ledger.incidentOfRule(rule.id, otherThan: machineID, near: time, window: policy.burstWindow) {
            return .join(id: match.incident,
                         reason: "'\(rule.title)' fired on \(hostname) and \(match.hostname) within \(policy.burstWindow.reasonText)")
        }
        return .create(title: "\(rule.title) on \(hostname)", reason: "first alert: \(rule.title) on \(hostname)")
    }
}

/// Where and when a detection happened, and its dedupe key: what the Correlator needs of an
/// event to decide an alert.
public struct AlertSubject: Sendable {
    public var machineID: Int64
    public var hostname: String
    public var integration: String
    public var time: Timestamp
    /// The values of the rule's dedupe fields, joined with U+001F (a custom detection's `key`).
    public var dedupeKey: String

    public init(machineID: Int64, hostname: String, integration: String, time: Timestamp, dedupeKey: String) {
        self.machineID = machineID
        self.hostname = hostname
        self.integration = integration
        self.time = time
        self.dedupeKey = dedupeKey
    }
}
