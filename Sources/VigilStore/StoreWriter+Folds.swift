import VigilModel

/// The folds of the open transaction that the alerts table does not show yet.
///
/// An alert that many events of one batch fold into is updated once, before the transaction
/// commits, instead of once per event: SQLite rewrites the entries of the five indexes that hold
/// an alert's last event time on every update that moves it, and a fold's updates were a third
/// of the writer's time on CEF and mobile-threat-defense imports, where every event is a
/// detection. Until they are written, `openAlert` answers with them applied, and every other
/// question that reads alert times writes them first, so the Correlator decides exactly as if
/// each fold had been written at once.
struct PendingFolds {
    /// What `openAlert` matches an alert on.
    struct DedupeIdentity: Hashable {
        let rule: String
        let machineID: Int64
        let dedupeKey: String
    }

    /// An alert with folds not yet written.
    struct Alert {
        let dedupe: DedupeIdentity
        /// The times the alerts table holds.
        let storedFirst: Int64, storedLast: Int64
        let severity: Int64
        let integration: String
        let incidentID: Int64?
        /// The span of the folded detections alone: the alert's incident widens to it.
        var foldedFirst: Int64, foldedLast: Int64
        var events: Int

        /// The times with the folds.
        var first: Int64 { min(storedFirst, foldedFirst) }
        var last: Int64 { max(storedLast, foldedLast) }
    }

    /// An alert's place in `openAlert`'s order: the latest last event, then the highest id.
    struct Rank: Comparable {
        let last: Int64, id: Int64
        static func < (lhs: Rank, rhs: Rank) -> Bool { (lhs.last, lhs.id) < (rhs.last, rhs.id) }
    }

    /// The latest stored open alert of a dedupe identity without pending folds, whatever its
    /// times; `alert` is nil when there is none.
    struct LatestStored {
        let alert: Rank?
    }

    private(set) var alerts: [Int64: Alert] = [:]
    private var alertsByDedupe: [DedupeIdentity: [Int64]] = [:]
    /// Learned in this transaction, and forgotten for an identity when one of its alerts is
    /// stored or takes pending folds, and for all when the folds are written.
    private var latestStored: [DedupeIdentity: LatestStored] = [:]

    var isEmpty: Bool { alerts.isEmpty }

    /// The alerts of `dedupe` with pending folds.
    func alerts(of dedupe: DedupeIdentity) -> [Int64] { alertsByDedupe[dedupe] ?? [] }

    func latestStored(of dedupe: DedupeIdentity) -> LatestStored? { latestStored[dedupe] }

    mutating func learn(_ latest: LatestStored, of dedupe: DedupeIdentity) { latestStored[dedupe] = latest }

    /// A new alert of `dedupe` was stored: what was learned of its latest no longer holds.
    mutating func stored(_ dedupe: DedupeIdentity) { latestStored[dedupe] = nil }

    /// Adds a fold of `first...last` to the pending alert `id`; false when it has none pending.
    mutating func fold(into id: Int64, first: Int64, last: Int64) -> Bool {
        guard var alert = alerts[id] else { return false }
        alert.foldedFirst = min(alert.foldedFirst, first)
        alert.foldedLast = max(alert.foldedLast, last)
        alert.events += 1
        alerts[id] = alert
        return true
    }

    /// Starts pending folds for alert `id`, as stored, with its first fold.
    mutating func start(_ id: Int64, _ alert: Alert) {
        precondition(alerts[id] == nil, "alert \(id) already has pending folds")
        alerts[id] = alert
        alertsByDedupe[alert.dedupe, default: []].append(id)
        latestStored[alert.dedupe] = nil
    }

    mutating func removeAll() {
        alerts.removeAll(keepingCapacity: true)
        alertsByDedupe.removeAll(keepingCapacity: true)
        latestStored.removeAll(keepingCapacity: true)
    }
}

extension StoreWriter {
    /// Counts one more event in the alert and widens its span, in `pendingFolds` until the
    /// transaction ends. Outside a transaction, and for a correlation (whose count is then read
    /// back from its links), it is written at once.
    func fold(_ fold: AlertFold) throws(StoreError) {
        let (first, last) = (fold.firstEventTime.microseconds, fold.lastEventTime.microseconds)
        if !pendingFolds.fold(into: fold.alertID, first: first, last: last) {
            let stored = try connection.statement("""
                SELECT rule_id, machine_id, dedupe_key, first_event_time, last_event_time, severity, integration, incident_id
                FROM alerts WHERE id = ?
                """).bind(fold.alertID).firstRow { row in
                    PendingFolds.Alert(
                        dedupe: .init(rule: row.text("rule_id"), machineID: row.int("machine_id"), dedupeKey: row.text("dedupe_key")),
                        storedFirst: row.int("first_event_time"), storedLast: row.int("last_event_time"), severity: row.int("severity"),
                        integration: row.text("integration"), incidentID: row.optionalInt("incident_id"),
                        foldedFirst: first, foldedLast: last, events: 1)
                }
            guard let stored else {
                throw StoreError(.notFound, "alert \(fold.alertID), which the correlator folded an event into, is not in the store")
            }
            pendingFolds.start(fold.alertID, stored)
        }
        if !connection.isInTransaction || !fold.relatedEventKeys.isEmpty { try writePendingFolds() }
    }

    /// Writes the pending folds: one update per alert, and its incident widened to the folds'
    /// span. Only the times that move are set: SQLite rewrites the entries of every index on a
    /// column an UPDATE sets, even to the same value. The alert counts keep each alert under
    /// the day of its last event: a fold that moved that to another day moves the alert there
    /// too (schema version 23 says why no trigger does).
    func writePendingFolds() throws(StoreError) {
        guard !pendingFolds.isEmpty else { return }
        let now = Timestamp.now().microseconds
        var incidentSpans: [Int64: (first: Int64, last: Int64)] = [:]
        // In id order, so that the same import writes the same rows in the same order.
        for (id, alert) in pendingFolds.alerts.sorted(by: { $0.key < $1.key }) {
            let (movesFirst, movesLast) = (alert.first < alert.storedFirst, alert.last > alert.storedLast)
            let update = try connection.statement(Self.foldUpdates[(movesFirst ? 1 : 0) + (movesLast ? 2 : 0)])
            update.bindInt(now, at: 1)
            update.bindInt(id, at: 2)
            if movesFirst { update.bindInt(alert.first, at: 3) }
            if movesLast { update.bindInt(alert.last, at: 4) }
            update.bindInt(Int64(alert.events), at: 5)
            try update.run()
            if let incident = alert.incidentID {
                let span = incidentSpans[incident] ?? (alert.foldedFirst, alert.foldedLast)
                incidentSpans[incident] = (min(span.first, alert.foldedFirst), max(span.last, alert.foldedLast))
            }
            let (dayBefore, dayAfter) = (Self.day(of: alert.storedLast), Self.day(of: alert.last))
            guard dayAfter != dayBefore else { continue }
            try connection.statement("UPDATE alert_counts SET count = count - 1 WHERE day = ? AND severity = ? AND integration = ?")
                .bind(dayBefore, alert.severity, alert.integration).run()
            try connection.statement("""
                INSERT INTO alert_counts (day, severity, integration, count) VALUES (?, ?, ?, 1)
                ON CONFLICT (day, severity, integration) DO UPDATE SET count = count + 1
                """).bind(dayAfter, alert.severity, alert.integration).run()
        }
        // The incident spans its alerts' events.
        let widenIncident = try connection.statement("""
            UPDATE incidents SET first_event_time = MIN(first_event_time, ?), last_event_time = MAX(last_event_time, ?), updated_at = ?
            WHERE id = ?
            """)
        for (incident, span) in incidentSpans.sorted(by: { $0.key < $1.key }) {
            try widenIncident.bind(span.first, span.last, now, incident).run()
        }
        pendingFolds.removeAll()
    }

    /// The fold's UPDATEs, by which times move (1: the first, 2: the last, 3: both). Parameters:
    /// `updated_at`, `id`, the new first and last event times, and the events folded.
    private static let foldUpdates = (0..<4).map { moves in
        "UPDATE alerts SET event_count = event_count + ?5, updated_at = ?1"
            + (moves & 1 != 0 ? ", first_event_time = ?3" : "") + (moves & 2 != 0 ? ", last_event_time = ?4" : "") + " WHERE id = ?2"
    }

    /// The day an alert is counted under: its last event's, in days since 1970 (as SQLite
    /// divides, truncating).
    private static func day(of microseconds: Int64) -> Int64 { microseconds / 86_400_000_000 }

    /// `openAlert` with the pending folds applied. The stored alerts without pending folds hold
    /// their true times, so the latest of them that the query finds stands (the alerts of the
    /// same dedupe identity with pending folds are left out by id, so that the query still stops
    /// at its first row); each alert with pending folds is tested with its times as they will
    /// be written. Same conditions, same order: the latest last event, then the highest id.
    ///
    /// A pending alert that qualifies and ranks above the identity's latest stored alert, which
    /// does not depend on the detection's times and is learned once per transaction, is the
    /// answer without the query: no stored alert could rank above it.
    func openAlert(_ dedupe: PendingFolds.DedupeIdentity, firstTime: Int64, time: Int64, window: Int64) throws(StoreError) -> Int64? {
        // The queries leave the pending alerts out by id, a parameter each: past a few (a sender
        // can spread one identity's events over many windows), the folds are written instead.
        if pendingFolds.alerts(of: dedupe).count >= Self.mostLeftOut { try writePendingFolds() }
        let pending = pendingFolds.alerts(of: dedupe)
        var bestPending: PendingFolds.Rank?
        for id in pending {
            guard let alert = pendingFolds.alerts[id], alert.last >= time - window, alert.first <= time + window else { continue }
            // As SQLite computes it, an overflowing span is larger than any window.
            let (span, overflow) = max(alert.last, time).subtractingReportingOverflow(min(alert.first, firstTime))
            guard !overflow, span <= window else { continue }
            let rank = PendingFolds.Rank(last: alert.last, id: id)
            if bestPending.map({ rank > $0 }) ?? true { bestPending = rank }
        }
        let leftOut: [(any SQLValue)?] = pending.map { $0 }
        if let bestPending {
            let latest: PendingFolds.LatestStored
            if let known = pendingFolds.latestStored(of: dedupe) {
                latest = known
            } else {
                let identity: [(any SQLValue)?] = [dedupe.rule, dedupe.machineID, dedupe.dedupeKey]
                latest = PendingFolds.LatestStored(alert: try connection.statement(Self.latestStoredQueries[pending.count])
                    .bind(identity + leftOut).firstRow { PendingFolds.Rank(last: $0.int("last_event_time"), id: $0.int("id")) })
                pendingFolds.learn(latest, of: dedupe)
            }
            if latest.alert.map({ bestPending > $0 }) ?? true { return bestPending.id }
        }
        let values: [(any SQLValue)?] = [dedupe.rule, dedupe.machineID, dedupe.dedupeKey, time - window, time + window, time, firstTime, window]
        let stored = try connection.statement(Self.openAlertQueries[pending.count]).bind(values + leftOut)
            .firstRow { PendingFolds.Rank(last: $0.int("last_event_time"), id: $0.int("id")) }
        guard let bestPending else { return stored?.id }
        return max(stored ?? bestPending, bestPending).id
    }

    /// The most alerts the queries below leave out by id.
    private static let mostLeftOut = 8

    /// The open-alert queries, by how many alerts each leaves out by id (`?9` onwards).
    private static let openAlertQueries = (0..<mostLeftOut).map { count in
        """
        SELECT id, last_event_time FROM alerts
        WHERE rule_id = ?1 AND machine_id = ?2 AND dedupe_key = ?3 AND status IN ('new', 'in_progress')
          AND last_event_time >= ?4 AND first_event_time <= ?5
          AND MAX(last_event_time, ?6) - MIN(first_event_time, ?7) <= ?8
        """ + leavingOut(count, from: 9) + "\nORDER BY last_event_time DESC, id DESC LIMIT 1"
    }

    /// The latest stored open alert of a dedupe identity, whatever its times, by how many
    /// alerts each leaves out by id (`?4` onwards).
    private static let latestStoredQueries = (0..<mostLeftOut).map { count in
        """
        SELECT id, last_event_time FROM alerts
        WHERE rule_id = ?1 AND machine_id = ?2 AND dedupe_key = ?3 AND status IN ('new', 'in_progress')
        """ + leavingOut(count, from: 4) + "\nORDER BY last_event_time DESC, id DESC LIMIT 1"
    }

    /// `AND id NOT IN (…)` over `count` parameters numbered from `first`; empty for none.
    private static func leavingOut(_ count: Int, from first: Int) -> String {
        count == 0 ? "" : "\n  AND id NOT IN (" + (0..<count).map { "?\(first + $0)" }.joined(separator: ", ") + ")"
    }
}
