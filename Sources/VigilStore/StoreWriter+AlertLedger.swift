import VigilModel

/// Every answer includes the transaction's pending folds (`StoreWriter+Folds.swift`): `openAlert`
/// applies them; the questions that read alert times otherwise write them first.
extension StoreWriter: AlertLedger {
    public func openAlert(rule: String, machineID: Int64, dedupeKey: String, firstTime: Timestamp, time: Timestamp,
                          window: Duration) throws -> Int64? {
        try openAlert(.init(rule: rule, machineID: machineID, dedupeKey: dedupeKey), firstTime: firstTime.microseconds,
                      time: time.microseconds, window: window.microseconds)
    }

    public func latestAlert(rule: String, machineID: Int64, dedupeKey: String) throws -> Int64? {
        try writePendingFolds()
        return try connection.statement("""
            SELECT id FROM alerts WHERE rule_id = ? AND machine_id = ? AND dedupe_key = ?
            ORDER BY first_event_time DESC, id DESC LIMIT 1
            """)
            .bind(rule, machineID, dedupeKey)
            .firstRow { $0.int("id") }
    }

    public func incidentOnMachine(_ machineID: Int64, near time: Timestamp, window: Duration) throws -> Int64? {
        try writePendingFolds()
        let time = time.microseconds, window = window.microseconds
        return try connection.statement("""
            SELECT incident_id FROM alerts WHERE machine_id = ? AND incident_id IS NOT NULL
              AND last_event_time >= ? AND first_event_time <= ? ORDER BY last_event_time DESC, incident_id DESC LIMIT 1
            """).bind(machineID, time - window, time + window).firstRow { $0.int("incident_id") }
    }

    public func incidentSharing(_ indicator: Indicator, otherThan machineID: Int64, near time: Timestamp,
                                window: Duration) throws -> (incident: Int64, hostname: String)? {
        let time = time.microseconds, window = window.microseconds
        return try connection.statement("""
            SELECT a.incident_id, m.hostname FROM alert_indicators ai JOIN alerts a ON a.id = ai.alert_id
            JOIN machines m ON m.id = a.machine_id
            WHERE ai.kind = ? AND ai.value = ? AND a.machine_id != ? AND a.incident_id IS NOT NULL
              AND ai.time >= ? AND ai.time <= ? ORDER BY ai.time DESC, a.incident_id DESC LIMIT 1
            """).bind(indicator.kind, indicator.value, machineID, time - window, time + window)
            .firstRow { ($0.int("incident_id"), $0.text("hostname")) }
    }

    public func incidentOfRule(_ rule: String, otherThan machineID: Int64, near time: Timestamp,
                               window: Duration) throws -> (incident: Int64, hostname: String)? {
        try writePendingFolds()
        let time = time.microseconds, window = window.microseconds
        return try connection.statement("""
            SELECT a.incident_id, m.hostname FROM alerts a JOIN machines m ON m.id = a.machine_id
            WHERE a.rule_id = ? AND a.machine_id != ? AND a.incident_id IS NOT NULL
              AND a.last_event_time >= ? AND a.first_event_time <= ?
            ORDER BY a.last_event_time DESC, a.incident_id DESC LIMIT 1
            """).bind(rule, machineID, time - window, time + window).firstRow { ($0.int("incident_id"), $0.text("hostname")) }
    }
}
