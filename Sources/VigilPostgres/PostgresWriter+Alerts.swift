import VigilModel
import VigilStore

extension PostgresWriter: AlertLedger {
    public func openAlert(rule: String, machineID: Int64, dedupeKey: String, firstTime: Timestamp, time: Timestamp,
                          window: Duration) throws -> Int64? {
        let time = time.microseconds, firstTime = firstTime.microseconds, window = window.microseconds
        return try session.query("""
            SELECT id FROM alerts
            WHERE rule_id = $1 AND machine_id = $2 AND dedupe_key = $3 AND status IN ('new', 'in_progress')
              AND last_event_time >= $4 AND first_event_time <= $5
              AND GREATEST(last_event_time, $6) - LEAST(first_event_time, $7) <= $8
            ORDER BY last_event_time DESC, id DESC LIMIT 1
            """, [rule, machineID, storable(dedupeKey), time - window, time + window, time, firstTime, window]).first?.int("id")
    }

    public func latestAlert(rule: String, machineID: Int64, dedupeKey: String) throws -> Int64? {
        try session.query("""
            SELECT id FROM alerts WHERE rule_id = $1 AND machine_id = $2 AND dedupe_key = $3 ORDER BY first_event_time DESC, id DESC LIMIT 1
            """, [rule, machineID, storable(dedupeKey)]).first?.int("id")
    }

    public func incidentOnMachine(_ machineID: Int64, near time: Timestamp, window: Duration) throws -> Int64? {
        let time = time.microseconds, window = window.microseconds
        return try session.query("""
            SELECT incident_id FROM alerts WHERE machine_id = $1 AND incident_id IS NOT NULL
              AND last_event_time >= $2 AND first_event_time <= $3 ORDER BY last_event_time DESC, incident_id DESC LIMIT 1
            """, [machineID, time - window, time + window]).first?.int("incident_id")
    }

    public func incidentSharing(_ indicator: Indicator, otherThan machineID: Int64, near time: Timestamp,
                                window: Duration) throws -> (incident: Int64, hostname: String)? {
        let time = time.microseconds, window = window.microseconds
        guard let row = try session.query("""
            SELECT a.incident_id, m.hostname FROM alert_indicators ai JOIN alerts a ON a.id = ai.alert_id
            JOIN machines m ON m.id = a.machine_id
            WHERE ai.kind = $1 AND ai.value = $2 AND a.machine_id <> $3 AND a.incident_id IS NOT NULL
              AND ai.time >= $4 AND ai.time <= $5 ORDER BY ai.time DESC, a.incident_id DESC LIMIT 1
            """, [indicator.kind, storable(indicator.value), machineID, time - window, time + window]).first else { return nil }
        return (try row.int("incident_id"), try row.text("hostname"))
    }

    public func incidentOfRule(_ rule: String, otherThan machineID: Int64, near time: Timestamp,
                               window: Duration) throws -> (incident: Int64, hostname: String)? {
        let time = time.microseconds, window = window.microseconds
        guard let row = try session.query("""
            SELECT a.incident_id, m.hostname FROM alerts a JOIN machines m ON m.id = a.machine_id
            WHERE a.rule_id = $1 AND a.machine_id <> $2 AND a.incident_id IS NOT NULL
              AND a.last_event_time >= $3 AND a.first_event_time <= $4
            ORDER BY a.last_event_time DESC, a.incident_id DESC LIMIT 1
            """, [rule, machineID, time - window, time + window]).first else { return nil }
        return (try row.int("incident_id"), try row.text("hostname"))
    }
}

extension PostgresWriter: AlertUpserts {
    @discardableResult
    public func apply(_ upsert: AlertUpsert, eventID: Int64) throws -> Int64 {
        let now = Timestamp.now().microseconds
        let alertID: Int64
        let relatedEventKeys: [Int64]
        switch upsert {
        case .fold(let fold):
            // One round trip: the alert, the incident it is in (which spans its alerts' events), and the link.
            try session.execute("""
                WITH alert AS (
                    UPDATE alerts SET event_count = event_count + 1, first_event_time = LEAST(first_event_time, $1),
                        last_event_time = GREATEST(last_event_time, $2), updated_at = $3 WHERE id = $4 RETURNING incident_id),
                incident AS (
                    UPDATE incidents SET first_event_time = LEAST(first_event_time, $1), last_event_time = GREATEST(last_event_time, $2), updated_at = $3
                    WHERE id = (SELECT incident_id FROM alert))
                INSERT INTO alert_events (alert_id, event_id) VALUES ($4, $5) ON CONFLICT DO NOTHING
                """, [fold.firstEventTime.microseconds, fold.lastEventTime.microseconds, now, fold.alertID, eventID])
            guard !fold.relatedEventKeys.isEmpty else { return fold.alertID }
            alertID = fold.alertID
            relatedEventKeys = fold.relatedEventKeys
        case .open(let alert):
            try registerRule(alert.rule)
            let matched = storable(json.object(alert.matchedFields))
            guard let row = try session.query("""
                INSERT INTO alerts (rule_id, title, severity, machine_id, integration, dedupe_key, event_count,
                    first_event_time, last_event_time, created_at, updated_at, matched_fields, previous_alert_id)
                VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $9, $10, $11, $12) RETURNING id
                """, [alert.rule.id, storable(alert.title), alert.severity.rawValue, alert.machineID, alert.integration, storable(alert.dedupeKey),
                      alert.firstEventTime.microseconds, alert.lastEventTime.microseconds, now, now, matched, alert.previousAlertID]).first
            else { throw StoreError(.notFound, "the alert insert returned no id") }
            alertID = try row.int("id")
            try appendOutbox(.alertCreated, alertID: alertID)
            try placeInIncident(alertID: alertID, alert)
            try session.execute("INSERT INTO alert_events (alert_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [alertID, eventID])
            relatedEventKeys = alert.relatedEventKeys
        }
        guard !relatedEventKeys.isEmpty else { return alertID }
        try session.execute("""
            INSERT INTO alert_events (alert_id, event_id) SELECT $1, id FROM events WHERE key = ANY($2::int8[]) ON CONFLICT DO NOTHING
            """, [alertID, relatedEventKeys])
        // A correlation's count is its window's events when it opens, then how many events its alert links.
        if case .open = upsert {
            try session.execute("UPDATE alerts SET event_count = $1 WHERE id = $2", [Int64(relatedEventKeys.count + 1), alertID])
        } else {
            try session.execute("UPDATE alerts SET event_count = (SELECT COUNT(*) FROM alert_events WHERE alert_id = $1) WHERE id = $1", [alertID])
        }
        return alertID
    }

    /// Records a new alert's indicators and puts it into the incident the Correlator chose.
    private func placeInIncident(alertID: Int64, _ alert: NewAlert) throws {
        let time = alert.lastEventTime.microseconds
        for indicator in alert.indicators {
            try session.execute("INSERT INTO alert_indicators (alert_id, kind, value, time) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                                [alertID, indicator.kind, storable(indicator.value), time])
        }
        let now = Timestamp.now().microseconds
        let incidentID: Int64
        switch alert.incident {
        case .join(let id, let reason):
            if try session.execute("UPDATE incidents SET severity = $1 WHERE id = $2 AND severity < $1", [alert.severity.rawValue, id]) > 0 {
                try appendOutbox(.incidentUpdated, incidentID: id, changes: "severity raised to \(alert.severity.name)")
            }
            // A reason is added once; the list stops growing at 4,000 characters.
            try session.execute("""
                UPDATE incidents SET updated_at = $1,
                    reason = CASE WHEN strpos(reason, $2) > 0 OR length(reason) > 4000 THEN reason ELSE reason || chr(10) || $2 END,
                    first_event_time = LEAST(first_event_time, $3), last_event_time = GREATEST(last_event_time, $3)
                WHERE id = $4
                """, [now, storable(reason), time, id])
            // A resolved incident that an analyst did not close by hand opens again.
            if try session.execute("UPDATE incidents SET status = 'new' WHERE id = $1 AND status_set_manually = 0 AND status = 'resolved'", [id]) > 0 {
                try appendOutbox(.incidentUpdated, incidentID: id, changes: "status: resolved → new (a new alert joined)")
            }
            incidentID = id
        case .create(let title, let reason):
            guard let row = try session.query("""
                INSERT INTO incidents (title, severity, status, reason, created_at, updated_at, first_event_time, last_event_time)
                VALUES ($1, $2, 'new', $3, $4, $4, $5, $5) RETURNING id
                """, [storable(title), alert.severity.rawValue, storable(reason), now, time]).first
            else { throw StoreError(.notFound, "the incident insert returned no id") }
            incidentID = try row.int("id")
            try appendOutbox(.incidentCreated, incidentID: incidentID)
        }
        try session.execute("UPDATE alerts SET incident_id = $1 WHERE id = $2", [incidentID, alertID])
    }

    private func registerRule(_ rule: RuleInfo) throws {
        guard !knownRules.contains(rule.id) else { return }
        try session.execute("""
            INSERT INTO rules (id, title, level, status, author, tags, techniques, refs, logsource, file, description)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (id) DO UPDATE SET title = excluded.title, level = excluded.level, status = excluded.status,
                author = excluded.author, tags = excluded.tags, techniques = excluded.techniques, refs = excluded.refs,
                logsource = excluded.logsource, file = excluded.file, description = excluded.description
            """, [rule.id, storable(rule.title), rule.severity.name, storable(rule.status), storable(rule.author),
                  storable(rule.tags.joined(separator: ",")), storable(rule.attackTechniques.joined(separator: ",")),
                  storable(rule.references.joined(separator: " ")), storable(rule.logSource.description), storable(rule.file),
                  storable(rule.description)])
        knownRules.insert(rule.id)
    }
}
