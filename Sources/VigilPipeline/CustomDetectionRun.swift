import VigilDetection
import VigilModel
import VigilStore

/// One row a custom detection's query returned: the stored event it is about, its dedupe key,
/// and the other columns, kept as the alert's matched fields.
public struct CustomDetectionRow: Sendable {
    public var eventID: Int64?
    public var key: String
    public var columns: [(name: String, value: String)]
}

/// What one run of a custom detection did.
public struct CustomDetectionOutcome: Sendable, Equatable, CustomStringConvertible {
    public var rows = 0
    public var alertsOpened = 0
    /// Rows folded into an open alert of the same machine and key.
    public var alertsFolded = 0
    /// Rows whose event an alert of this detection already cites (an earlier run saw it).
    public var alreadyRaised = 0
    /// Rows with no usable `event_id`, or naming an event that is not stored (purged).
    public var skipped = 0
    /// The query returned more rows than a run takes.
    public var truncated = false

    public init() {}

    public var description: String {
        "\(rows) rows: \(alertsOpened) alerts opened, \(alertsFolded) folded, \(alreadyRaised) already raised, \(skipped) skipped"
            + (truncated ? " (stopped at the row cap)" : "")
    }
}

/// Running a custom detection: its query reads rows on a read-only hunting connection, then the
/// single writer raises an alert per row through the Correlator, as a rule's detection would be.
public enum CustomDetectionRun {
    /// The rows a run takes at most; more are left for the next run, and the outcome says so.
    public static let rowCap = 10_000

    /// Runs `detection`'s query over the database at `path`, read-only, for at most `timeout`.
    /// Throws a `StoreError` that says what to fix when the query fails or returns no `event_id`.
    public static func read(_ detection: CustomDetection, databasePath path: String,
                            timeout: Duration = .seconds(30)) throws -> (rows: [CustomDetectionRow], truncated: Bool) {
        try rows(of: try HuntingQuery(path: path).run(detection.query, timeout: timeout, rowCap: rowCap))
    }

    /// Runs `detection`'s query through `engine` (a PostgreSQL store's hunting role), for at most `timeout`.
    public static func read(_ detection: CustomDetection, engine: any HuntingEngine,
                            timeout: Duration = .seconds(30)) async throws -> (rows: [CustomDetectionRow], truncated: Bool) {
        try rows(of: try await engine.run(detection.query, timeout: timeout, rowCap: rowCap, byteCap: 64 << 20))
    }

    /// A query's result as detection rows: each row's `event_id`, its `key`, and its other columns.
    public static func rows(of result: HuntingQuery.Result) throws -> (rows: [CustomDetectionRow], truncated: Bool) {
        try requireEventID(result.columns)
        let eventColumn = result.columns.firstIndex(of: "event_id")!
        let keyColumn = result.columns.firstIndex(of: "key")
        let rows = result.rows.map { values in
            var eventID: Int64?
            if case .number(let number) = values[eventColumn], number.rounded() == number, abs(number) < 9e15 { eventID = Int64(number) }
            let columns = zip(result.columns, values).enumerated().compactMap { index, column -> (name: String, value: String)? in
                index == eventColumn ? nil : (column.0, column.1.plainText)
            }
            return CustomDetectionRow(eventID: eventID, key: keyColumn.map { values[$0].plainText } ?? "", columns: columns)
        }
        return (rows, result.truncated)
    }

    /// Checks that a query's columns name the event each row is about.
    public static func requireEventID(_ columns: [String]) throws(StoreError) {
        guard columns.contains("event_id") else {
            throw StoreError(.invalidValue, """
                a custom detection's query must return an event_id column: the stored event each alert cites \
                (SELECT id AS event_id … FROM events, or max(id) AS event_id with GROUP BY); found \(columns.joined(separator: ", "))
                """)
        }
    }
}

extension BatchCommitter {
    /// Raises `detection`'s alerts for `rows`, read at `ranAt`, in one transaction that also
    /// records the run and schedules the next. A row whose event an alert of this detection
    /// already cites raises nothing, so a query that looks back further than its schedule does
    /// not raise the same row twice.
    public func raise(_ detection: CustomDetection, rows: [CustomDetectionRow], truncated: Bool, ranAt: Timestamp) throws -> CustomDetectionOutcome {
        let rule = RuleInfo(id: detection.ruleID, title: detection.title, severity: detection.severity, status: "custom",
                            author: detection.actor, tags: detection.tags, file: "custom-detection:\(detection.name)",
                            description: detection.query)
        let writer = try customDetectionWriter()
        return try writer.transaction {
            var outcome = CustomDetectionOutcome()
            outcome.rows = rows.count
            outcome.truncated = truncated
            for row in rows {
                guard let eventID = row.eventID, let event = try writer.alertSubject(ofEvent: eventID) else {
                    outcome.skipped += 1
                    continue
                }
                if try writer.ruleCites(rule.id, eventID: eventID) {
                    outcome.alreadyRaised += 1
                    continue
                }
                let subject = AlertSubject(machineID: event.machineID, hostname: event.hostname, integration: event.integration,
                                           time: event.time, dedupeKey: row.key)
                let detection = Detection(rule: rule, matchedFields: row.columns.map { EventField(FieldKey($0.name), $0.value) })
                let upsert = try correlator.decide(detection, subject: subject, indicators: [], ledger: writer)
                try writer.apply(upsert, eventID: eventID)
                if case .open = upsert { outcome.alertsOpened += 1 } else { outcome.alertsFolded += 1 }
            }
            try writer.recordCustomDetectionRun(detection.name, at: ranAt, outcome: outcome.description,
                                                nextRunAt: detection.nextRun(after: ranAt))
            return outcome
        }
    }

    /// Records a run of `detection` that failed (its query was refused or stopped), and schedules the next.
    public func recordFailedRun(_ detection: CustomDetection, reason: String, ranAt: Timestamp) throws {
        let writer = try customDetectionWriter()
        try writer.transaction {
            try writer.recordCustomDetectionRun(detection.name, at: ranAt, outcome: "failed: \(reason)",
                                                nextRunAt: detection.nextRun(after: ranAt))
        }
    }

    /// The writer, with what custom detections need of it (both stores' writers have it).
    private func customDetectionWriter() throws -> any BatchWriter & CustomDetectionWriter {
        guard let writer = writer as? any BatchWriter & CustomDetectionWriter else {
            throw StoreError(.invalidValue, "this store's writer cannot raise custom detections' alerts")
        }
        return writer
    }
}
