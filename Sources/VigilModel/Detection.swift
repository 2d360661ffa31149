/// What an alert inherits from the rule that raised it.
public struct RuleInfo: Sendable, Equatable {
    public var id: String
    public var title: String
    public var severity: Severity
    /// Sigma `status` (stable, test, experimental, …).
    public var status: String
    /// Rule author; SigmaHQ's Detection Rule License requires it to stay with every match.
    public var author: String
    public var tags: [String]
    public var references: [String]
    public var logSource: LogSource
    /// The file the rule came from, or `builtin:<name>`.
    public var file: String
    /// Fields whose values form the deduplication key; empty means rule plus machine.
    public var dedupeFields: [FieldKey]
    /// Sigma `description`.
    public var description: String

    public init(
        id: String, title: String, severity: Severity, status: String = "", author: String = "",
        tags: [String] = [], references: [String] = [], logSource: LogSource = LogSource(),
        file: String = "", dedupeFields: [FieldKey] = [], description: String = ""
    ) {
        self.description = description
        self.id = id
        self.title = title
        self.severity = severity
        self.status = status
        self.author = author
        self.tags = tags
        self.references = references
        self.logSource = logSource
        self.file = file
        self.dedupeFields = dedupeFields
    }

    /// MITRE ATT&CK technique ids from `attack.tNNNN[.NNN]` tags, uppercased (`T1059.004`).
    public var attackTechniques: [String] {
        tags.compactMap { tag in
            let lower = tag.lowercased()
            guard lower.hasPrefix("attack.t"), lower.count >= 12 else { return nil }
            let id = lower.dropFirst("attack.".count)
            guard id.dropFirst().prefix(4).allSatisfy(\.isNumber) else { return nil }
            return id.uppercased()
        }
    }
}

/// One rule matching one event, or a correlation rule matching a set of events.
public struct Detection: Sendable {
    public var rule: RuleInfo
    /// The fields the rule refers to, with the event's values (for a correlation: its group-by values and count).
    public var matchedFields: [EventField]
    /// For a correlation: the content keys of the other events in its window, linked to the alert too.
    public var relatedEventKeys: [Int64]
    /// For a correlation: the time of the first event in its window.
    public var windowStart: Timestamp?
    /// What the alert is called: the rule's title, or the vendor's words for a vendor finding.
    public var title: String
    /// The alert's severity: the rule's level, or the vendor's severity mapped onto Vigil's scale.
    public var severity: Severity
    /// For a correlation: this event extends the window that already fired (the condition still
    /// holds), so it folds into that alert rather than raising a new one.
    public var continuesCorrelation = false

    public init(rule: RuleInfo, matchedFields: [EventField], relatedEventKeys: [Int64] = [], windowStart: Timestamp? = nil,
                title: String? = nil, severity: Severity? = nil) {
        self.rule = rule
        self.matchedFields = matchedFields
        self.relatedEventKeys = relatedEventKeys
        self.windowStart = windowStart
        self.title = title ?? rule.title
        self.severity = severity ?? rule.severity
    }
}
