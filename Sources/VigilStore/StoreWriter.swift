import VigilModel

/// The only writer: stores events, rejected records and alerts with prepared, reused
/// statements, inside transactions its caller opens (`transaction`). What an alert is, it
/// does not decide: it writes the Correlator's `AlertUpsert`s and answers its `AlertLedger`
/// questions from the same transaction.
public final class StoreWriter: EventSink {
    let connection: Connection
    private var knownRules: Set<String> = []
    private var json = FieldsJSONWriter()
    /// The machine rows met in earlier batches (`StoreWriter+Machines.swift`).
    var knownMachines = KnownMachines()
    /// The folds of the open transaction not written yet (`StoreWriter+Folds.swift`).
    var pendingFolds = PendingFolds()
    let checkpointer: WALCheckpointer

    /// The writer of `store`; while it lives, its WAL is checkpointed on a thread of its own.
    public init(store: Store) {
        self.connection = store.connection
        checkpointer = WALCheckpointer(writer: store.connection)
    }

    deinit {
        checkpointer.detach()
    }

    /// Pending folds are written before the commit, and forgotten with a rollback.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        defer { pendingFolds.removeAll() }
        return try connection.transaction {
            let result = try body()
            try writePendingFolds()
            return result
        }
    }

    public func beginImport(source: String, format: String, integration: String) throws -> Int64 {
        try connection.statement("INSERT INTO imports (source, format, integration, started_at, status) VALUES (?, ?, ?, ?, 'running')")
            .bind(source, format, integration, Timestamp.now().microseconds).run()
        return connection.lastInsertRowID
    }

    public func finishImport(id: Int64, failed: Bool) throws {
        try connection.statement("UPDATE imports SET finished_at = ?, status = ? WHERE id = ?")
            .bind(Timestamp.now().microseconds, failed ? "failed" : "completed", id)
            .run()
    }

    /// Read inside the write transaction, so that no toggle or revocation can slip in between
    /// check and commit.
    public func tokenStillValid(_ tokenID: Int64) throws -> Bool {
        try connection.statement("""
            SELECT 1 FROM access_tokens t JOIN integrations i ON i.name = t.integration
            WHERE t.id = ? AND t.revoked_at IS NULL AND t.expires_at > ? AND i.enabled = 1
            """).bind(tokenID, Timestamp.now().microseconds).firstRow { _ in true } ?? false
    }

    public func recordTokenUse(_ tokenID: Int64) throws {
        try connection.statement("UPDATE access_tokens SET last_used_at = ? WHERE id = ?").bind(Timestamp.now().microseconds, tokenID).run()
    }

    /// Each event takes the first of its storage keys that no other event holds; where one holds
    /// the same event, the event is a duplicate. The full comparison runs only when a key is taken.
    ///
    /// Events are inserted `rowsPerInsert` at a time, each under its first key: one statement
    /// step per group instead of per event. Where a group's insert stored fewer rows than it
    /// holds, the rows it left out (a duplicate, or a key another event holds) go on one by one
    /// along their keys, in order. After a group that stored nothing, the batch goes on one by one.
    public func store(_ items: [BatchItem], importID: Int64?, futureAfter: Timestamp) throws -> [StoreResult] {
        let machines = try findMachines(of: items)
        let insertOne = try connection.statement(Self.insertOneEvent)
        let insertGroup = try connection.statement(Self.insertEventGroup)
        let sameEvent = try connection.statement("""
            SELECT 1 FROM events WHERE key = ? AND time = ? AND machine_id = ? AND integration = ? AND source_format = ?
                AND COALESCE(category, '') = ? AND raw = ?
            """)
        let keyHolder = try connection.statement("SELECT id FROM events WHERE key = ?")
        var results = [StoreResult?](repeating: nil, count: items.count)
        var storedPerEntry = [Int](repeating: 0, count: machines.entries.count)
        var rows: [Row] = []
        rows.reserveCapacity(Self.rowsPerInsert)
        // Each part is read from the batch by itself: a copy of the whole item retains every
        // string and array its event holds.
        func row(_ position: Int) -> Row {
            let fieldsJSON = items[position].fieldsJSON
                ?? json.object(items[position].event.fields)
            return Row(position: position, machineID: machines.machineID(ofItem: position), key: items[position].key ?? EventKey(items[position].event),
                       fieldsJSON: fieldsJSON, raw: items[position].event.raw)
        }
        func record(_ result: StoreResult, of row: Row) {
            results[row.position] = result
            if case .stored = result { storedPerEntry[machines.entryOfItem[row.position]] += 1 }
        }

        var start = 0
        // A group that stored nothing (a file imported again) ends grouping for this batch: its
        // rows would all be tried twice.
        var grouping = true
        while grouping, items.count - start >= Self.rowsPerInsert {
            rows.removeAll(keepingCapacity: true)
            for position in start..<start + Self.rowsPerInsert { rows.append(row(position)) }
            start += Self.rowsPerInsert
            let stored = try storeGroup(rows, of: items, importID: importID, futureAfter: futureAfter, into: insertGroup,
                                        keyHolder: keyHolder, record: record)
            grouping = stored > 0
            for row in rows where results[row.position] == nil {
                record(try storeAlongKeys(row, of: items, importID: importID, futureAfter: futureAfter,
                                          insert: insertOne, sameEvent: sameEvent), of: row)
            }
        }
        for position in start..<items.count {
            let row = row(position)
            record(try storeAlongKeys(row, of: items, importID: importID, futureAfter: futureAfter,
                                      insert: insertOne, sameEvent: sameEvent), of: row)
        }
        try updateMachines(machines, storedPerEntry: storedPerEntry)
        return results.map { result in
            guard let result else { preconditionFailure("every event of a batch has a result") }
            return result
        }
    }

    /// Inserts `rows` in one statement step, each under its first storage key, and records each
    /// row it stored; returns how many it stored. The rows it did not store are left unrecorded.
    private func storeGroup(_ rows: [Row], of items: [BatchItem], importID: Int64?, futureAfter: Timestamp, into insert: Statement,
                            keyHolder: Statement, record: (StoreResult, Row) -> Void) throws -> Int {
        for (offset, row) in rows.enumerated() {
            bindEvent(of: items, at: row.position, machineID: row.machineID, key: row.key.storageKey(probe: 0), importID: importID,
                      futureAfter: futureAfter, to: insert, at: Int32(offset) * Self.columnsPerRow)
        }
        try withTextsInPlace(of: rows[...], bindingTo: insert, at: 0) { try insert.run() }
        // The rows stored took consecutive ids ending at the last one inserted: SQLite gives a
        // new row one more than the largest id (below 2^63, which event ids never near).
        let storedCount = connection.changes
        let lastID = connection.lastInsertRowID
        if storedCount == rows.count {
            for (offset, row) in rows.enumerated() {
                let eventID = lastID - Int64(rows.count - 1 - offset)
                record(.stored(StoredEvent(eventID: eventID, machineID: row.machineID, key: row.key.storageKey(probe: 0))), row)
            }
            return storedCount
        }
        guard storedCount > 0 else { return 0 }
        // Which rows were stored: the first row of the group under each key, if the event holding
        // that key now has an id this insert gave.
        var keysTried = Set<Int64>()
        for row in rows {
            let key = row.key.storageKey(probe: 0)
            guard keysTried.insert(key).inserted, let holder = try keyHolder.bind(key).firstInteger(),
                  holder > lastID - Int64(storedCount) else { continue }
            record(.stored(StoredEvent(eventID: holder, machineID: row.machineID, key: key)), row)
        }
        return storedCount
    }

    /// How many events one insert statement takes: one step stores them all. Measured with a C
    /// harness appending 500k rows of this table's shape under its unique key index, three
    /// rounds: 16 rows per statement appended 16-20% faster than one (325-339k rows/s against
    /// 274-293k); 64 rows were no steadier gain.
    static let rowsPerInsert = 16
    private static let columnsPerRow: Int32 = 13
    private static let insertOneEvent = insertEvents(rows: 1)
    private static let insertEventGroup = insertEvents(rows: rowsPerInsert)

    /// The insert of `rows` events, each under the storage key bound to it.
    private static func insertEvents(rows: Int) -> String {
        let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        return """
            INSERT INTO events (key, time, machine_id, integration, source_format, product, category, service, fields, raw, import_id, line, future_time)
            VALUES \(repeatElement(row, count: rows).joined(separator: ", ")) ON CONFLICT(key) DO NOTHING
            """
    }

    /// An event on its way into the table: where its result goes, and what the writer computed for it.
    private struct Row {
        var position: Int
        var machineID: Int64
        var key: EventKey
        var fieldsJSON: String
        var raw: String
    }

    /// Binds every column of the event at `position` but its two large texts (`withTextsInPlace`),
    /// as the row whose parameters follow `offset`. Each part is read from the batch by itself,
    /// as `store` reads them: a copy of the event retains and releases all it holds.
    private func bindEvent(of items: [BatchItem], at position: Int, machineID: Int64, key: Int64, importID: Int64?,
                           futureAfter: Timestamp, to insert: Statement, at offset: Int32) {
        insert.bindInt(key, at: offset + 1)
        insert.bindInt(items[position].event.time.microseconds, at: offset + 2)
        insert.bindInt(machineID, at: offset + 3)
        // A batch's events mostly share these: each is handed to SQLite (which copies it)
        // only when it changes.
        insert.bindRepeatedText(items[position].event.integration, at: offset + 4)
        insert.bindRepeatedText(items[position].event.sourceFormat, at: offset + 5)
        insert.bindRepeatedText(items[position].event.logSource.product, at: offset + 6)
        insert.bindRepeatedText(items[position].event.logSource.category, at: offset + 7)
        insert.bindRepeatedText(items[position].event.logSource.service, at: offset + 8)
        if let importID { insert.bindInt(importID, at: offset + 11) } else { insert.bindNull(at: offset + 11) }
        insert.bindInt(Int64(items[position].event.line), at: offset + 12)
        insert.bindInt(items[position].event.time > futureAfter ? 1 : 0, at: offset + 13)
    }

    /// Binds the fields JSON and raw text of `rows` in place, read by the steps `body` takes
    /// instead of being copied into SQLite first (`Statement.withUnsafeTextInPlace`).
    private func withTextsInPlace(of rows: ArraySlice<Row>, bindingTo insert: Statement, at offset: Int32,
                                  _ body: () throws -> Void) throws {
        guard let row = rows.first else { return try body() }
        try insert.withUnsafeTextInPlace(row.raw, at: offset + 10) {
            try insert.withUnsafeTextInPlace(row.fieldsJSON, at: offset + 9) {
                try withTextsInPlace(of: rows.dropFirst(), bindingTo: insert, at: offset + Self.columnsPerRow, body)
            }
        }
    }

    /// Stores one event under the first of its storage keys that no other event holds, or finds
    /// it a duplicate of the event holding one.
    private func storeAlongKeys(_ row: Row, of items: [BatchItem], importID: Int64?, futureAfter: Timestamp, insert: Statement,
                                sameEvent: Statement) throws -> StoreResult {
        // Everything but the key stays bound over the tries.
        bindEvent(of: items, at: row.position, machineID: row.machineID, key: row.key.storageKey(probe: 0), importID: importID, futureAfter: futureAfter,
                  to: insert, at: 0)
        return try insert.withUnsafeTextInPlace(row.raw, at: 10) {
            try insert.withUnsafeTextInPlace(row.fieldsJSON, at: 9) {
                for probe in 0..<EventKey.maximumProbes {
                    let key = row.key.storageKey(probe: probe)
                    insert.bindInt(key, at: 1)
                    try insert.run()
                    if connection.changes > 0 {
                        return .stored(StoredEvent(eventID: connection.lastInsertRowID, machineID: row.machineID, key: key))
                    }
                    let event = items[row.position].event
                    if try sameEvent.bind(key, event.time.microseconds, row.machineID, event.integration, event.sourceFormat,
                                          event.logSource.category ?? "", row.raw).firstInteger() != nil {
                        return .duplicate(key: key)
                    }
                }
                return .refused(reason: Self.allKeysTaken)
            }
        }
    }

    /// Why an event whose every storage key holds another event is refused.
    package static let allKeysTaken = """
        all \(EventKey.maximumProbes) storage keys of this event hold other events of the same second, \
        as only records crafted to collide would; nothing of it was stored
        """

    public func finishBatch(_ outcome: BatchOutcome, rejected: [RejectedRecord], recordsRead: Int, importID: Int64?,
                            eventsByIntegration: [String: Int]) throws {
        if let importID {
            let insertRejected = try connection.statement("INSERT INTO rejected_records (import_id, line, reason, raw_prefix) VALUES (?, ?, ?, ?)")
            for record in rejected {
                try insertRejected.bind(importID, record.line, record.reason, record.rawPrefix).run()
            }
            try connection.statement("""
                UPDATE imports SET records_read = records_read + ?, events_stored = events_stored + ?, rejected = rejected + ?,
                    duplicates = duplicates + ?, alerts_raised = alerts_raised + ? WHERE id = ?
                """)
                .bind(recordsRead, outcome.stored, outcome.rejected, outcome.duplicates, outcome.alertsRaised, importID).run()
        }
        let now = Timestamp.now()
        for (integration, count) in eventsByIntegration {
            try connection.statement("UPDATE integrations SET events_received = events_received + ?, last_data_at = ? WHERE name = ?")
                .bind(count, now.microseconds, integration).run()
        }
    }
}

extension StoreWriter: AlertUpserts {
    @discardableResult
    public func apply(_ upsert: AlertUpsert, eventID: Int64) throws -> Int64 {
        let now = Timestamp.now().microseconds
        let alertID: Int64
        let relatedEventKeys: [Int64]
        switch upsert {
        case .fold(let fold):
            try self.fold(fold)
            alertID = fold.alertID
            relatedEventKeys = fold.relatedEventKeys
        case .open(let alert):
            try registerRule(alert.rule)
            let matched = json.object(alert.matchedFields)
            try connection.statement("""
                INSERT INTO alerts (rule_id, title, severity, machine_id, integration, dedupe_key, event_count,
                    first_event_time, last_event_time, created_at, updated_at, matched_fields, previous_alert_id)
                VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
                """)
                .bind(alert.rule.id, alert.title, alert.severity.rawValue, alert.machineID, alert.integration, alert.dedupeKey,
                      alert.firstEventTime.microseconds, alert.lastEventTime.microseconds, now, now, matched, alert.previousAlertID)
                .run()
            alertID = connection.lastInsertRowID
            pendingFolds.stored(.init(rule: alert.rule.id, machineID: alert.machineID, dedupeKey: alert.dedupeKey))
            try appendOutbox(.alertCreated, alertID: alertID)
            try placeInIncident(alertID: alertID, alert)
            relatedEventKeys = alert.relatedEventKeys
        }
        try connection.statement("INSERT INTO alert_events (alert_id, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(alertID, eventID).run()
        guard !relatedEventKeys.isEmpty else { return alertID }
        let linkByKey = try connection.statement(
            "INSERT INTO alert_events (alert_id, event_id) SELECT ?, id FROM events WHERE key = ? ON CONFLICT DO NOTHING")
        for related in relatedEventKeys { try linkByKey.bind(alertID, related).run() }
        // A correlation's count is its window's events when it opens, then how many events its alert links.
        if case .open = upsert {
            try connection.statement("UPDATE alerts SET event_count = ? WHERE id = ?").bind(relatedEventKeys.count + 1, alertID).run()
        } else {
            try connection.statement("UPDATE alerts SET event_count = (SELECT COUNT(*) FROM alert_events WHERE alert_id = ?) WHERE id = ?")
                .bind(alertID, alertID).run()
        }
        return alertID
    }

    /// Records a new alert's indicators and puts it into the incident the Correlator chose.
    private func placeInIncident(alertID: Int64, _ alert: NewAlert) throws {
        let time = alert.lastEventTime.microseconds
        let insertIndicator = try connection.statement("INSERT OR IGNORE INTO alert_indicators (alert_id, kind, value, time) VALUES (?, ?, ?, ?)")
        for indicator in alert.indicators { try insertIndicator.bind(alertID, indicator.kind, indicator.value, time).run() }
        let now = Timestamp.now().microseconds
        let incidentID: Int64
        switch alert.incident {
        case .join(let id, let reason):
            try connection.statement("UPDATE incidents SET severity = ? WHERE id = ? AND severity < ?")
                .bind(alert.severity.rawValue, id, alert.severity.rawValue).run()
            if connection.changes > 0 {
                try appendOutbox(.incidentUpdated, incidentID: id, changes: "severity raised to \(alert.severity.name)")
            }
            // A reason is added once; the list stops growing at 4,000 characters.
            try connection.statement("""
                UPDATE incidents SET updated_at = ?,
                    reason = CASE WHEN instr(reason, ?) > 0 OR length(reason) > 4000 THEN reason ELSE reason || char(10) || ? END,
                    first_event_time = MIN(first_event_time, ?), last_event_time = MAX(last_event_time, ?)
                WHERE id = ?
                """).bind(now, reason, reason, time, time, id).run()
            // A resolved incident that an analyst did not close by hand opens again.
            try connection.statement("UPDATE incidents SET status = 'new' WHERE id = ? AND status_set_manually = 0 AND status = 'resolved'")
                .bind(id).run()
            if connection.changes > 0 {
                try appendOutbox(.incidentUpdated, incidentID: id, changes: "status: resolved → new (a new alert joined)")
            }
            incidentID = id
        case .create(let title, let reason):
            try connection.statement("""
                INSERT INTO incidents (title, severity, status, reason, created_at, updated_at, first_event_time, last_event_time)
                VALUES (?, ?, 'new', ?, ?, ?, ?, ?)
                """).bind(title, alert.severity.rawValue, reason, now, now, time, time).run()
            incidentID = connection.lastInsertRowID
            try appendOutbox(.incidentCreated, incidentID: incidentID)
        }
        try connection.statement("UPDATE alerts SET incident_id = ? WHERE id = ?").bind(incidentID, alertID).run()
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
