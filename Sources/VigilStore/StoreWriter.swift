import VigilModel

/// One event ready to store: the event, its content-derived key and its detections.
public struct BatchItem: Sendable {
    public var event: Event
    public var key: Int64
    public var detections: [Detection]
    /// The event's fields as JSON, when the caller serialized them already (off the writer's thread).
    public var fieldsJSON: String?
    /// Dated further after its arrival than the allowed skew: stored with `future_time` set.
    public var futureDated: Bool

    public init(event: Event, key: Int64, detections: [Detection], fieldsJSON: String? = nil, futureDated: Bool = false) {
        self.event = event
        self.key = key
        self.detections = detections
        self.fieldsJSON = fieldsJSON
        self.futureDated = futureDated
    }
}

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

    public init() {}

    public static func += (lhs: inout BatchOutcome, rhs: BatchOutcome) {
        lhs.stored += rhs.stored
        lhs.duplicates += rhs.duplicates
        lhs.rejected += rhs.rejected
        lhs.alertsRaised += rhs.alertsRaised
        lhs.futureDated += rhs.futureDated
        lhs.alertsUpdated += rhs.alertsUpdated
    }
}

/// The only writer: stores events, rejected records and alerts in batched transactions
/// with prepared, reused statements. A batch commits whole or not at all.
public final class StoreWriter {
    let connection: Connection
    /// A detection within this much event time of an open alert's events updates that alert.
    public let dedupeWindow: Duration
    /// How new alerts are grouped into incidents.
    public let policy: IncidentPolicy
    private var knownRules: Set<String> = []
    private var names = FieldNameCache()

    public init(store: Store, dedupeWindow: Duration = .seconds(3600), policy: IncidentPolicy = IncidentPolicy()) {
        self.connection = store.connection
        self.dedupeWindow = dedupeWindow
        self.policy = policy
    }

    /// Records the start of an import and returns its id.
    public func beginImport(source: String, format: String, integration: String) throws(StoreError) -> Int64 {
        try connection.statement("INSERT INTO imports (source, format, integration, started_at, status) VALUES (?, ?, ?, ?, 'running')")
            .bind(source, format, integration, Timestamp.now().microseconds).run()
        return connection.lastInsertRowID
    }

    /// Records the end of an import; its totals were added batch by batch.
    public func finishImport(id: Int64, failed: Bool) throws(StoreError) {
        try connection.statement("UPDATE imports SET finished_at = ?, status = ? WHERE id = ?")
            .bind(Timestamp.now().microseconds, failed ? "failed" : "completed", id)
            .run()
    }

    /// One pushed batch: where it came from and what it holds.
    public struct PushedBatch: Sendable {
        public var source: String
        public var format: String
        public var integration: String
        /// The push token it came with, checked again inside the write transaction.
        public var tokenID: Int64?
        public var recordsRead: Int
        public var items: [BatchItem]
        public var rejected: [RejectedRecord]

        public init(source: String, format: String, integration: String, tokenID: Int64? = nil, recordsRead: Int,
                    items: [BatchItem], rejected: [RejectedRecord]) {
            self.source = source
            self.format = format
            self.integration = integration
            self.tokenID = tokenID
            self.recordsRead = recordsRead
            self.items = items
            self.rejected = rejected
        }
    }

    /// Writes several pushed batches (concurrent HTTP pushes) in one transaction, each recorded
    /// as its own import; one outcome per batch, in order, nil for a batch whose token is no
    /// longer valid at the commit (revoked, expired, or its integration turned off while its
    /// body streamed in): nothing of that batch is stored, and `prepare` never sees it.
    /// `prepare` runs inside the transaction, just before a batch is written (correlation).
    public func write(batches: [PushedBatch], prepare: (inout PushedBatch) -> Void = { _ in }) throws -> [BatchOutcome?] {
        try connection.transaction {
            let now = Timestamp.now().microseconds
            return try batches.map { batch -> BatchOutcome? in
                if let tokenID = batch.tokenID, try !tokenStillValid(tokenID, at: now) { return nil }
                var batch = batch
                prepare(&batch)
                let importID = try beginImport(source: batch.source, format: batch.format, integration: batch.integration)
                let outcome = try writeUnlocked(batch.items, rejected: batch.rejected, recordsRead: batch.recordsRead, importID: importID)
                try finishImport(id: importID, failed: false)
                return outcome
            }
        }
    }

    /// Whether the token is unrevoked and unexpired and its integration on, read inside the
    /// write transaction so that no toggle or revocation can slip in between check and commit.
    private func tokenStillValid(_ tokenID: Int64, at now: Int64) throws -> Bool {
        try connection.statement("""
            SELECT 1 FROM access_tokens t JOIN integrations i ON i.name = t.integration
            WHERE t.id = ? AND t.revoked_at IS NULL AND t.expires_at > ? AND i.enabled = 1
            """).bind(tokenID, now).firstRow { _ in true } ?? false
    }

    /// Writes `items` and `rejected`, read from `recordsRead` records, in one transaction that
    /// also adds them to the import's totals: after a crash, the row counts what was committed.
    public func write(_ items: [BatchItem], rejected: [RejectedRecord], recordsRead: Int, importID: Int64?) throws -> BatchOutcome {
        try connection.transaction { try writeUnlocked(items, rejected: rejected, recordsRead: recordsRead, importID: importID) }
    }

    private func writeUnlocked(_ items: [BatchItem], rejected: [RejectedRecord], recordsRead: Int, importID: Int64?) throws -> BatchOutcome {
        do {
            var outcome = BatchOutcome()
            let machineIDs = try upsertMachines(items)
            let insertEvent = try connection.statement("""
                INSERT INTO events (key, time, machine_id, integration, source_format, product, category, service, fields, raw, import_id, line, future_time)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING
                """)
            var integrationCounts: [String: Int] = [:]
            for (position, item) in items.enumerated() {
                let event = item.event
                let machineID = machineIDs[position]
                insertEvent.bindInt(item.key, at: 1)
                insertEvent.bindInt(event.time.microseconds, at: 2)
                insertEvent.bindInt(machineID, at: 3)
                insertEvent.bindText(event.integration, at: 4)
                insertEvent.bindText(event.sourceFormat, at: 5)
                bindOptional(insertEvent, event.logSource.product, at: 6)
                bindOptional(insertEvent, event.logSource.category, at: 7)
                bindOptional(insertEvent, event.logSource.service, at: 8)
                insertEvent.bindText(item.fieldsJSON ?? JSONText.object(fields: event.fields, name: { names.name(of: $0) }), at: 9)
                insertEvent.bindText(event.raw, at: 10)
                if let importID { insertEvent.bindInt(importID, at: 11) } else { insertEvent.bindNull(at: 11) }
                insertEvent.bindInt(Int64(event.line), at: 12)
                insertEvent.bindInt(item.futureDated ? 1 : 0, at: 13)
                try insertEvent.run()
                guard connection.changes > 0 else {
                    outcome.duplicates += 1
                    continue
                }
                outcome.stored += 1
                if item.futureDated { outcome.futureDated += 1 }
                let eventID = connection.lastInsertRowID
                integrationCounts[event.integration, default: 0] += 1
                for detection in item.detections {
                    let raised = try recordDetection(detection, event: event, eventID: eventID, machineID: machineID)
                    if raised { outcome.alertsRaised += 1 } else { outcome.alertsUpdated += 1 }
                }
            }
            if let importID {
                let insertRejected = try connection.statement("INSERT INTO rejected_records (import_id, line, reason, raw_prefix) VALUES (?, ?, ?, ?)")
                for record in rejected {
                    try insertRejected.bind(importID, record.line, record.reason, record.rawPrefix).run()
                }
            }
            outcome.rejected = rejected.count
            if let importID {
                try connection.statement("""
                    UPDATE imports SET records_read = records_read + ?, events_stored = events_stored + ?, rejected = rejected + ?,
                        duplicates = duplicates + ?, alerts_raised = alerts_raised + ? WHERE id = ?
                    """)
                    .bind(recordsRead, outcome.stored, outcome.rejected, outcome.duplicates, outcome.alertsRaised, importID).run()
            }
            let now = Timestamp.now()
            for (integration, count) in integrationCounts {
                try connection.statement("UPDATE integrations SET events_received = events_received + ?, last_data_at = ? WHERE name = ?")
                    .bind(count, now.microseconds, integration).run()
            }
            return outcome
        }
    }

    private func bindOptional(_ statement: Statement, _ value: String?, at index: Int32) {
        if let value { statement.bindText(value, at: index) } else { statement.bindNull(at: index) }
    }

    /// Upserts every machine in the batch once (hostnames compare case-insensitively) and
    /// returns each item's machine id, in item order.
    private func upsertMachines(_ items: [BatchItem]) throws -> [Int64] {
        var seen: [(identity: MachineIdentity, first: Timestamp, last: Timestamp, integration: String)] = []
        var slotByLowercased: [String: Int] = [:]
        // Lowercasing allocates, so each spelling of a hostname is lowercased once per batch.
        var slotBySpelling: [String: Int] = [:]
        var slotOfItem: [Int] = []
        slotOfItem.reserveCapacity(items.count)
        for item in items {
            let hostname = item.event.machine.hostname
            let time = item.event.time
            let slot: Int
            if let known = slotBySpelling[hostname] {
                slot = known
            } else {
                let lowercased = hostname.lowercased()
                if let known = slotByLowercased[lowercased] { slot = known } else {
                    slot = seen.count
                    slotByLowercased[lowercased] = slot
                    seen.append((item.event.machine, time, time, item.event.integration))
                }
                slotBySpelling[hostname] = slot
            }
            slotOfItem.append(slot)
            seen[slot].first = min(seen[slot].first, time)
            seen[slot].last = max(seen[slot].last, time)
            if seen[slot].identity.platform == .unknown { seen[slot].identity.platform = item.event.machine.platform }
            if seen[slot].identity.osVersion == nil { seen[slot].identity.osVersion = item.event.machine.osVersion }
        }
        let upsert = try connection.statement("""
            INSERT INTO machines (hostname, os_platform, os_version, first_seen, last_seen, last_integration)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(hostname) DO UPDATE SET
                os_platform = CASE WHEN excluded.os_platform != 'unknown' THEN excluded.os_platform ELSE machines.os_platform END,
                os_version = COALESCE(excluded.os_version, machines.os_version),
                first_seen = MIN(machines.first_seen, excluded.first_seen),
                last_seen = MAX(machines.last_seen, excluded.last_seen),
                last_integration = excluded.last_integration
            RETURNING id
            """)
        let link = try connection.statement("""
            INSERT INTO machine_integrations (machine_id, integration, last_seen) VALUES (?, ?, ?)
            ON CONFLICT(machine_id, integration) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)
            """)
        var ids: [Int64] = []
        for entry in seen {
            upsert.bind(entry.identity.hostname, entry.identity.platform.rawValue, entry.identity.osVersion,
                        entry.first.microseconds, entry.last.microseconds, entry.integration)
            guard let id = try upsert.firstRow({ $0.int(0) }) else {
                throw StoreError(.notFound, "the machine upsert returned no id")
            }
            try link.bind(id, entry.integration, entry.last.microseconds).run()
            ids.append(id)
        }
        return slotOfItem.map { ids[$0] }
    }

    /// Folds a detection into an open alert (`new` or `in_progress`) of the same rule, machine
    /// and dedupe key whose events, with this one, would still span at most the dedupe window
    /// (the window is anchored on the alert's first event, so a steady trickle cannot keep one
    /// alert open forever), or opens a new one that names the alert it follows. A resolved
    /// alert never absorbs a detection. Returns true when it opened a new alert.
    private func recordDetection(_ detection: Detection, event: Event, eventID: Int64, machineID: Int64) throws -> Bool {
        let rule = detection.rule
        try registerRule(rule)
        let dedupeKey = rule.dedupeFields.map { key in event.value(of: key) ?? "" }.joined(separator: "\u{1F}")
        let time = event.time.microseconds
        let firstTime = min(detection.windowStart?.microseconds ?? time, time)
        let window = dedupeWindow.microseconds
        let open = try connection.statement("""
            SELECT id FROM alerts
            WHERE rule_id = ? AND machine_id = ? AND dedupe_key = ? AND status IN ('new', 'in_progress')
              AND last_event_time >= ? AND first_event_time <= ?
              AND MAX(last_event_time, ?) - MIN(first_event_time, ?) <= ?
            ORDER BY last_event_time DESC LIMIT 1
            """)
            .bind(rule.id, machineID, dedupeKey, time - window, time + window, time, firstTime, window)
            .firstRow { $0.int(0) }
        let now = Timestamp.now().microseconds
        let alertID: Int64
        if let open {
            try connection.statement("""
                UPDATE alerts SET event_count = event_count + 1, first_event_time = MIN(first_event_time, ?),
                last_event_time = MAX(last_event_time, ?), updated_at = ? WHERE id = ?
                """)
                .bind(firstTime, time, now, open).run()
            alertID = open
        } else {
            let matched = JSONText.object(fields: detection.matchedFields, name: { names.name(of: $0) })
            let previous = try connection.statement("""
                SELECT id FROM alerts WHERE rule_id = ? AND machine_id = ? AND dedupe_key = ?
                ORDER BY first_event_time DESC, id DESC LIMIT 1
                """)
                .bind(rule.id, machineID, dedupeKey)
                .firstRow { $0.int(0) }
            try connection.statement("""
                INSERT INTO alerts (rule_id, title, severity, machine_id, integration, dedupe_key, event_count,
                    first_event_time, last_event_time, created_at, updated_at, matched_fields, previous_alert_id)
                VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
                """)
                .bind(rule.id, rule.title, rule.severity.rawValue, machineID, event.integration, dedupeKey,
                      firstTime, time, now, now, matched, previous)
                .run()
            alertID = connection.lastInsertRowID
            try assignIncident(alertID: alertID, rule: rule, event: event, machineID: machineID)
        }
        let link = try connection.statement("INSERT INTO alert_events (alert_id, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING")
        try link.bind(alertID, eventID).run()
        if !detection.relatedEventKeys.isEmpty {
            let linkByKey = try connection.statement(
                "INSERT INTO alert_events (alert_id, event_id) SELECT ?, id FROM events WHERE key = ? ON CONFLICT DO NOTHING")
            for related in detection.relatedEventKeys { try linkByKey.bind(alertID, related).run() }
        }
        if open != nil {
            // A correlation's count is how many events its alert links.
            if !detection.relatedEventKeys.isEmpty {
                try connection.statement("UPDATE alerts SET event_count = (SELECT COUNT(*) FROM alert_events WHERE alert_id = ?) WHERE id = ?")
                    .bind(alertID, alertID).run()
            }
        } else if !detection.relatedEventKeys.isEmpty {
            try connection.statement("UPDATE alerts SET event_count = ? WHERE id = ?").bind(detection.relatedEventKeys.count + 1, alertID).run()
        }
        return open == nil
    }

    private func registerRule(_ rule: RuleInfo) throws {
        guard !knownRules.contains(rule.id) else { return }
        try connection.statement("""
            INSERT INTO rules (id, title, level, status, author, tags, techniques, refs, logsource, file, description)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET title = excluded.title, level = excluded.level, status = excluded.status,
                author = excluded.author, tags = excluded.tags, techniques = excluded.techniques, refs = excluded.refs,
                logsource = excluded.logsource, file = excluded.file, description = excluded.description
            """)
            .bind(rule.id, rule.title, rule.severity.name, rule.status, rule.author, rule.tags.joined(separator: ","),
                  rule.attackTechniques.joined(separator: ","), rule.references.joined(separator: " "),
                  rule.logSource.description, rule.file, rule.description)
            .run()
        knownRules.insert(rule.id)
    }
}
