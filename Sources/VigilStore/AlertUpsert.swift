import VigilModel

/// What the Correlator decided for one detection of one stored event: fold it into an alert
/// that is open, or open a new one. Writers write it as decided; they never decide.
public enum AlertUpsert: Sendable, Equatable {
    case fold(AlertFold)
    case open(NewAlert)
}

/// A detection folded into an open alert.
public struct AlertFold: Sendable, Equatable {
    public var alertID: Int64
    /// The earliest event time the detection brings (a correlation window's first event).
    public var firstEventTime: Timestamp
    public var lastEventTime: Timestamp
    /// For a correlation: the content keys of the other events of its window, linked too.
    public var relatedEventKeys: [Int64]

    public init(alertID: Int64, firstEventTime: Timestamp, lastEventTime: Timestamp, relatedEventKeys: [Int64] = []) {
        self.alertID = alertID
        self.firstEventTime = firstEventTime
        self.lastEventTime = lastEventTime
        self.relatedEventKeys = relatedEventKeys
    }
}

/// A new alert, with the incident it goes into.
public struct NewAlert: Sendable, Equatable {
    public var rule: RuleInfo
    /// The alert's title and severity (the rule's, or a vendor finding's own).
    public var title: String
    public var severity: Severity
    public var machineID: Int64
    public var integration: String
    /// The values of the rule's dedupe fields, joined with U+001F.
    public var dedupeKey: String
    public var firstEventTime: Timestamp
    public var lastEventTime: Timestamp
    public var matchedFields: [EventField]
    /// The latest earlier alert of the same rule, machine and key (resolved, or open but out of window).
    public var previousAlertID: Int64?
    public var relatedEventKeys: [Int64]
    /// File hashes and remote addresses the event carries, kept to group later alerts.
    public var indicators: [Indicator]
    public var incident: IncidentLink

    public init(rule: RuleInfo, machineID: Int64, integration: String, dedupeKey: String, firstEventTime: Timestamp,
                lastEventTime: Timestamp, matchedFields: [EventField], previousAlertID: Int64?, relatedEventKeys: [Int64],
                indicators: [Indicator], incident: IncidentLink, title: String? = nil, severity: Severity? = nil) {
        self.rule = rule
        self.title = title ?? rule.title
        self.severity = severity ?? rule.severity
        self.machineID = machineID
        self.integration = integration
        self.dedupeKey = dedupeKey
        self.firstEventTime = firstEventTime
        self.lastEventTime = lastEventTime
        self.matchedFields = matchedFields
        self.previousAlertID = previousAlertID
        self.relatedEventKeys = relatedEventKeys
        self.indicators = indicators
        self.incident = incident
    }
}

/// An indicator of compromise an event carries: a file hash (lowercased) or a remote IP.
public struct Indicator: Sendable, Hashable {
    /// `sha256`, `sha1`, `md5` or `ip`.
    public var kind: String
    public var value: String

    public init(kind: String, value: String) {
        self.kind = kind
        self.value = value
    }
}

/// Where a new alert's incident comes from.
public enum IncidentLink: Sendable, Equatable {
    /// Join incident `id`; `reason` says why, and is added to the incident's reasons once.
    case join(id: Int64, reason: String)
    /// Open a new incident.
    case create(title: String, reason: String)
}
