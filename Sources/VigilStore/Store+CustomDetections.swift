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

/// Custom detections as the stores keep them: the SQL is written once, for both dialects, below.
public protocol CustomDetectionStore: AnyObject {
    /// Saves a new custom detection, due at once, audited. Throws `invalidValue` when the name is taken.
    func addCustomDetection(_ detection: CustomDetection) throws
    /// Every custom detection, by name.
    func customDetections() throws -> [CustomDetection]
    /// The enabled custom detections due at `now`, the longest overdue first.
    func dueCustomDetections(at now: Timestamp) throws -> [CustomDetection]
    /// When the next enabled custom detection is due, if any is enabled.
    func nextCustomDetectionRun() throws -> Timestamp?
    /// Takes the run of `detection` that is due now, by moving its next run to `next` unless
    /// another server did first: true when this caller is to run it. Several servers on one
    /// store (PostgreSQL nodes) thus run each due detection once.
    func claimCustomDetectionRun(_ detection: CustomDetection, next: Timestamp) throws -> Bool
    /// Turns a custom detection on (due at once) or off, audited. Throws `notFound` for an unknown name.
    func setCustomDetection(_ name: String, enabled: Bool, actor: String) throws
    /// Removes a custom detection, audited; its alerts stay. Throws `notFound` for an unknown name.
    func removeCustomDetection(_ name: String, actor: String) throws
}

extension CustomDetectionStore where Self: SQLWriter & AuditLog {
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
        try inTransaction {
            let taken = try readFirst("SELECT 1 AS taken FROM custom_detections WHERE name = ?", [.text(detection.name)]) { try $0.int("taken") } != nil
            if taken { throw StoreError(.invalidValue, "a custom detection named '\(detection.name)' exists; pick another name") }
            try write("""
                INSERT INTO custom_detections (name, title, query, every_seconds, severity, tags, enabled, created_at, actor, next_run_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(detection.name), .text(detection.title), .text(detection.query), .int(detection.every.components.seconds),
                      .int(detection.severity.rawValue), .text(detection.tags.joined(separator: ",")), .int(detection.enabled ? 1 : 0),
                      .int(detection.createdAt.microseconds), .text(detection.actor), .int(detection.nextRunAt.microseconds)])
            try appendAudit(actor: detection.actor, action: "detection.add", target: detection.name,
                            details: "every \(detection.every.components.seconds)s, \(detection.severity.name): \(detection.query)")
        }
    }

    public func customDetections() throws -> [CustomDetection] {
        try read("SELECT \(customDetectionColumns) FROM custom_detections ORDER BY name", [], CustomDetection.init(row:))
    }

    public func dueCustomDetections(at now: Timestamp) throws -> [CustomDetection] {
        try read("SELECT \(customDetectionColumns) FROM custom_detections WHERE enabled = 1 AND next_run_at <= ? ORDER BY next_run_at, name",
                 [.int(now.microseconds)], CustomDetection.init(row:))
    }

    public func nextCustomDetectionRun() throws -> Timestamp? {
        try readFirst("SELECT min(next_run_at) AS next FROM custom_detections WHERE enabled = 1", []) { try $0.optionalTime("next") } ?? nil
    }

    public func claimCustomDetectionRun(_ detection: CustomDetection, next: Timestamp) throws -> Bool {
        try write("UPDATE custom_detections SET next_run_at = ? WHERE name = ? AND enabled = 1 AND next_run_at = ?",
                  [.int(next.microseconds), .text(detection.name), .int(detection.nextRunAt.microseconds)]) == 1
    }

    public func setCustomDetection(_ name: String, enabled: Bool, actor: String) throws {
        try inTransaction {
            let changed = try write("UPDATE custom_detections SET enabled = ?, next_run_at = \(dialect.least("next_run_at", "?")) WHERE name = ?",
                                    [.int(enabled ? 1 : 0), .int(Timestamp.now().microseconds), .text(name)])
            guard changed > 0 else { throw StoreError(.notFound, "no custom detection is named '\(name)'; see vigil detections list") }
            try appendAudit(actor: actor, action: enabled ? "detection.enable" : "detection.disable", target: name, details: "")
        }
    }

    public func removeCustomDetection(_ name: String, actor: String) throws {
        try inTransaction {
            guard try write("DELETE FROM custom_detections WHERE name = ?", [.text(name)]) > 0 else {
                throw StoreError(.notFound, "no custom detection is named '\(name)'; see vigil detections list")
            }
            try appendAudit(actor: actor, action: "detection.remove", target: name, details: "")
        }
    }

    private var customDetectionColumns: String {
        "name, title, query, every_seconds, severity, tags, enabled, created_at, actor, next_run_at, last_run_at, last_outcome"
    }
}

extension Store: CustomDetectionStore {}

extension CustomDetection {
    /// A detection read from `customDetectionColumns`.
    init(row: any SQLRow) throws {
        let tags = try row.text("tags")
        self.init(
            name: try row.text("name"), title: try row.text("title"), query: try row.text("query"), every: .seconds(try row.int("every_seconds")),
            severity: Severity(rawValue: Int(try row.int("severity"))) ?? .medium, tags: tags.isEmpty ? [] : tags.split(separator: ",").map(String.init),
            enabled: try row.bool("enabled"), createdAt: try row.time("created_at"), actor: try row.text("actor"),
            nextRunAt: try row.time("next_run_at"), lastRunAt: try row.optionalTime("last_run_at"), lastOutcome: try row.optionalText("last_outcome"))
    }
}

/// What raising a custom detection's alerts needs of a store's writer, besides its alert
/// decisions (`BatchWriter`): the SQL is written once, for both dialects, below.
public protocol CustomDetectionWriter: AnyObject {
    /// Records a run of custom detection `name`: when it ran, what it did, and when it is next due.
    func recordCustomDetectionRun(_ name: String, at time: Timestamp, outcome: String, nextRunAt: Timestamp) throws
    /// The stored event a custom detection's row names: its machine, hostname, integration and time.
    func alertSubject(ofEvent eventID: Int64) throws -> (machineID: Int64, hostname: String, integration: String, time: Timestamp)?
    /// True when an alert of rule `ruleID` already cites event `eventID`.
    func ruleCites(_ ruleID: String, eventID: Int64) throws -> Bool
}

extension CustomDetectionWriter where Self: SQLWriter {
    public func recordCustomDetectionRun(_ name: String, at time: Timestamp, outcome: String, nextRunAt: Timestamp) throws {
        try write("UPDATE custom_detections SET last_run_at = ?, last_outcome = ?, next_run_at = ? WHERE name = ?",
                  [.int(time.microseconds), .text(outcome), .int(nextRunAt.microseconds), .text(name)])
    }

    public func alertSubject(ofEvent eventID: Int64) throws -> (machineID: Int64, hostname: String, integration: String, time: Timestamp)? {
        try readFirst("""
            SELECT e.machine_id, m.hostname, e.integration, e.time FROM events e JOIN machines m ON m.id = e.machine_id WHERE e.id = ?
            """, [.int(eventID)]) { (try $0.int("machine_id"), try $0.text("hostname"), try $0.text("integration"), try $0.time("time")) }
    }

    public func ruleCites(_ ruleID: String, eventID: Int64) throws -> Bool {
        try readFirst("""
            SELECT 1 AS cites FROM alert_events ae JOIN alerts a ON a.id = ae.alert_id WHERE ae.event_id = ? AND a.rule_id = ? LIMIT 1
            """, [.int(eventID), .text(ruleID)]) { try $0.int("cites") } != nil
    }
}

extension StoreWriter: SQLWriter, CustomDetectionWriter {
    public var dialect: SQLDialect { .sqlite }

    public func write(_ sql: String, _ values: [SQLParameter]) throws -> Int {
        try connection.statement(sql).bind(values.map(\.sqliteValue)).run()
        return connection.changes
    }

    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(body)
    }

    public func read<T>(_ sql: String, _ values: [SQLParameter], _ transform: (any SQLRow) throws -> T) throws -> [T] {
        try connection.read(sql, values, transform)
    }
}
