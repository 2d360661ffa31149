import Foundation
import VigilModel

/// A custom detection: a saved hunting query that `vigil serve` runs on a schedule, raising an
/// alert per returned row (rule `custom:<name>`), deduplicated by machine and the row's `key`.
public struct CustomDetection: Sendable, Equatable {
    /// Letters, digits, `-`, `_` and `.`; the alerts' rule id is `custom:<name>`.
    public var name: String
    public var title: String
    /// One SELECT over the hunting views that returns an `event_id` column.
    public var query: String
    public var every: Duration
    public var severity: Severity
    /// Sigma-style tags (`attack.t1110`), shown with the alerts as the rule's techniques.
    public var tags: [String]
    public var enabled: Bool
    public var createdAt: Timestamp
    public var actor: String
    public var nextRunAt: Timestamp
    public var lastRunAt: Timestamp?
    /// What the last run did (`3 rows: 2 alerts opened, 1 folded`), or why it failed.
    public var lastOutcome: String?

    public init(name: String, title: String, query: String, every: Duration, severity: Severity, tags: [String] = [],
                enabled: Bool = true, createdAt: Timestamp = .now(), actor: String, nextRunAt: Timestamp? = nil,
                lastRunAt: Timestamp? = nil, lastOutcome: String? = nil) {
        self.name = name
        self.title = title
        self.query = query
        self.every = every
        self.severity = severity
        self.tags = tags
        self.enabled = enabled
        self.createdAt = createdAt
        self.actor = actor
        self.nextRunAt = nextRunAt ?? createdAt
        self.lastRunAt = lastRunAt
        self.lastOutcome = lastOutcome
    }

    /// How often a custom detection may run.
    public static let allowedIntervals: ClosedRange<Duration> = .seconds(10) ... .seconds(366 * 86_400)

    /// When a run at `time` makes it due again (saturating: a stored interval cannot overflow it).
    public func nextRun(after time: Timestamp) -> Timestamp {
        let (sum, overflow) = time.microseconds.addingReportingOverflow(every.microseconds)
        return Timestamp(microseconds: overflow ? .max : sum)
    }

    /// The rule its alerts carry.
    public var ruleID: String { "custom:\(name)" }

    /// True when `name` may name a custom detection.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.".unicodeScalars.contains($0)) }
    }
}

extension Store {
    /// Saves a new custom detection, due at once, audited. Throws `invalidValue` when the name is taken.
    public func addCustomDetection(_ detection: CustomDetection) throws {
        guard CustomDetection.isValidName(detection.name) else {
            throw StoreError(.invalidValue, "'\(detection.name)' is not a detection name: use 1–64 letters, digits, '-', '_' or '.'")
        }
        guard !detection.title.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw StoreError(.invalidValue, "a custom detection needs a title: its alerts are called by it")
        }
        if let tag = detection.tags.first(where: { $0.isEmpty || $0.contains(",") }) {
            throw StoreError(.invalidValue, "'\(tag)' is not a tag: give one tag per --tag, without commas (attack.t1110)")
        }
        guard CustomDetection.allowedIntervals.contains(detection.every) else {
            throw StoreError(.invalidValue, "a custom detection runs every 10 seconds to 366 days; \(detection.every) is outside that")
        }
        try connection.transaction {
            let taken = try connection.statement("SELECT 1 FROM custom_detections WHERE name = ?").bind(detection.name).firstInteger() != nil
            if taken { throw StoreError(.invalidValue, "a custom detection named '\(detection.name)' exists; pick another name") }
            try connection.statement("""
                INSERT INTO custom_detections (name, title, query, every_seconds, severity, tags, enabled, created_at, actor, next_run_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).bind(detection.name, detection.title, detection.query, detection.every.components.seconds, detection.severity.rawValue,
                          detection.tags.joined(separator: ","), detection.enabled, detection.createdAt.microseconds, detection.actor,
                          detection.nextRunAt.microseconds).run()
            try appendAudit(actor: detection.actor, action: "detection.add", target: detection.name,
                            details: "every \(detection.every.components.seconds)s, \(detection.severity.name): \(detection.query)")
        }
    }

    /// Every custom detection, by name.
    public func customDetections() throws -> [CustomDetection] {
        try connection.statement("SELECT * FROM custom_detections ORDER BY name").rows(Self.customDetection)
    }

    /// The enabled custom detections due at `now`, the longest overdue first.
    public func dueCustomDetections(at now: Timestamp) throws -> [CustomDetection] {
        try connection.statement("SELECT * FROM custom_detections WHERE enabled = 1 AND next_run_at <= ? ORDER BY next_run_at, name")
            .bind(now.microseconds).rows(Self.customDetection)
    }

    /// When the next enabled custom detection is due, if any is enabled.
    public func nextCustomDetectionRun() throws -> Timestamp? {
        try connection.statement("SELECT min(next_run_at) AS next FROM custom_detections WHERE enabled = 1")
            .firstRow { $0.optionalTime("next") } ?? nil
    }

    /// Turns a custom detection on (due at once) or off, audited. Throws `notFound` for an unknown name.
    public func setCustomDetection(_ name: String, enabled: Bool, actor: String) throws {
        try connection.transaction {
            try connection.statement("UPDATE custom_detections SET enabled = ?, next_run_at = min(next_run_at, ?) WHERE name = ?")
                .bind(enabled, Timestamp.now().microseconds, name).run()
            guard connection.changes > 0 else { throw StoreError(.notFound, "no custom detection is named '\(name)'; see vigil detections list") }
            try appendAudit(actor: actor, action: enabled ? "detection.enable" : "detection.disable", target: name)
        }
    }

    /// Removes a custom detection, audited; its alerts stay. Throws `notFound` for an unknown name.
    public func removeCustomDetection(_ name: String, actor: String) throws {
        try connection.transaction {
            try connection.statement("DELETE FROM custom_detections WHERE name = ?").bind(name).run()
            guard connection.changes > 0 else { throw StoreError(.notFound, "no custom detection is named '\(name)'; see vigil detections list") }
            try appendAudit(actor: actor, action: "detection.remove", target: name)
        }
    }

    static func customDetection(_ row: Row) -> CustomDetection {
        let tags = row.text("tags")
        return CustomDetection(
            name: row.text("name"), title: row.text("title"), query: row.text("query"), every: .seconds(row.int("every_seconds")),
            severity: Severity(rawValue: Int(row.int("severity"))) ?? .medium, tags: tags.isEmpty ? [] : tags.split(separator: ",").map(String.init),
            enabled: row.bool("enabled"), createdAt: row.time("created_at"), actor: row.text("actor"), nextRunAt: row.time("next_run_at"),
            lastRunAt: row.optionalTime("last_run_at"), lastOutcome: row.optionalText("last_outcome"))
    }
}

extension StoreWriter {
    /// Records a run of custom detection `name`: when it ran, what it did, and when it is next due.
    public func recordCustomDetectionRun(_ name: String, at time: Timestamp, outcome: String, nextRunAt: Timestamp) throws {
        try connection.statement("UPDATE custom_detections SET last_run_at = ?, last_outcome = ?, next_run_at = ? WHERE name = ?")
            .bind(time.microseconds, outcome, nextRunAt.microseconds, name).run()
    }

    /// The stored event a custom detection's row names: its machine, hostname, integration and time.
    public func alertSubject(ofEvent eventID: Int64) throws -> (machineID: Int64, hostname: String, integration: String, time: Timestamp)? {
        try connection.statement("""
            SELECT e.machine_id, m.hostname, e.integration, e.time FROM events e JOIN machines m ON m.id = e.machine_id WHERE e.id = ?
            """).bind(eventID).firstRow { ($0.int("machine_id"), $0.text("hostname"), $0.text("integration"), $0.time("time")) }
    }

    /// True when an alert of rule `ruleID` already cites event `eventID`.
    public func ruleCites(_ ruleID: String, eventID: Int64) throws -> Bool {
        try connection.statement("""
            SELECT 1 FROM alert_events ae JOIN alerts a ON a.id = ae.alert_id WHERE ae.event_id = ? AND a.rule_id = ? LIMIT 1
            """).bind(eventID, ruleID).firstInteger() != nil
    }
}
