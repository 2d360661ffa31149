import VigilModel

/// How alerts are grouped into incidents, as data.
public struct IncidentPolicy: Sendable {
    /// Alerts on one machine this close in event time share an incident.
    public var machineWindow: Duration = .seconds(24 * 3600)
    /// Alerts on different machines sharing an indicator this close share an incident.
    public var indicatorWindow: Duration = .seconds(24 * 3600)
    /// The same rule on different machines this close is a burst, one incident.
    public var burstWindow: Duration = .seconds(3600)

    public init() {}

    /// Fields whose values are indicators, and the kind each is.
    static let indicatorFields: [(field: FieldKey, kind: String)] = [
        (FieldKey("sha256"), "sha256"), (FieldKey("sha1"), "sha1"), (FieldKey("md5"), "md5"),
        (FieldKey("file.hash.sha256"), "sha256"), (FieldKey("file.hash.sha1"), "sha1"), (FieldKey("file.hash.md5"), "md5"),
        (FieldKey("DestinationIp"), "ip"), (FieldKey("SourceIp"), "ip"), (FieldKey("rhost"), "ip"),
    ]
    static let hashesField = FieldKey("Hashes")

    /// The indicators an event carries: file hashes (lowercased) and remote IPs.
    static func indicators(of event: Event) -> [(kind: String, value: String)] {
        var found: [(kind: String, value: String)] = []
        for field in event.fields {
            if let entry = indicatorFields.first(where: { $0.field == field.key }) {
                let value = field.value.lowercased()
                if entry.kind == "ip", value.isEmpty || value == "127.0.0.1" || value == "::1" || value == "-" { continue }
                found.append((entry.kind, value))
            } else if field.key == hashesField {
                // Sysmon style: SHA256=…,MD5=…
                for part in field.value.split(separator: ",") {
                    let pair = part.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2 else { continue }
                    let kind = pair[0].lowercased().filter { $0 != "-" }
                    if ["sha256", "sha1", "md5"].contains(kind) { found.append((kind, pair[1].lowercased())) }
                }
            }
        }
        return found
    }
}

extension StoreWriter {
    /// Puts a new alert into an incident: the machine's recent incident, else one that shares
    /// an indicator, else one where the same rule fired on another machine in a burst, else a new one.
    func assignIncident(alertID: Int64, rule: RuleInfo, event: Event, machineID: Int64) throws {
        let time = event.time.microseconds
        let indicators = IncidentPolicy.indicators(of: event)
        let insertIndicator = try connection.statement("INSERT OR IGNORE INTO alert_indicators (alert_id, kind, value, time) VALUES (?, ?, ?, ?)")
        for indicator in indicators { try insertIndicator.bind(alertID, indicator.kind, indicator.value, time).run() }

        var joined: (incident: Int64, reason: String)?
        let machineWindow = policy.machineWindow.microseconds
        if let incident = try connection.statement("""
            SELECT incident_id FROM alerts WHERE machine_id = ? AND incident_id IS NOT NULL AND id != ?
              AND last_event_time >= ? AND first_event_time <= ? ORDER BY last_event_time DESC LIMIT 1
            """).bind(machineID, alertID, time - machineWindow, time + machineWindow).firstRow({ $0.int(0) }) {
            joined = (incident, "same machine \(event.machine.hostname) within \(Self.describe(policy.machineWindow))")
        }
        if joined == nil {
            let window = policy.indicatorWindow.microseconds
            for indicator in indicators {
                if let match = try connection.statement("""
                    SELECT a.incident_id, m.hostname FROM alert_indicators ai JOIN alerts a ON a.id = ai.alert_id
                    JOIN machines m ON m.id = a.machine_id
                    WHERE ai.kind = ? AND ai.value = ? AND a.machine_id != ? AND a.incident_id IS NOT NULL
                      AND ai.time >= ? AND ai.time <= ? LIMIT 1
                    """).bind(indicator.kind, indicator.value, machineID, time - window, time + window)
                    .firstRow({ ($0.int(0), $0.text(1)) })
                {
                    joined = (match.0, "\(event.machine.hostname) shares \(indicator.kind) \(indicator.value) with \(match.1)")
                    break
                }
            }
        }
        if joined == nil {
            let window = policy.burstWindow.microseconds
            if let match = try connection.statement("""
                SELECT a.incident_id, m.hostname FROM alerts a JOIN machines m ON m.id = a.machine_id
                WHERE a.rule_id = ? AND a.machine_id != ? AND a.incident_id IS NOT NULL
                  AND a.last_event_time >= ? AND a.first_event_time <= ? LIMIT 1
                """).bind(rule.id, machineID, time - window, time + window).firstRow({ ($0.int(0), $0.text(1)) })
            {
                joined = (match.0, "'\(rule.title)' fired on \(event.machine.hostname) and \(match.1) within \(Self.describe(policy.burstWindow))")
            }
        }
        let now = Timestamp.now().microseconds
        if let joined {
            // A reason is added once; the list stops growing at 4,000 characters.
            try connection.statement("""
                UPDATE incidents SET severity = MAX(severity, ?), updated_at = ?,
                    reason = CASE WHEN instr(reason, ?) > 0 OR length(reason) > 4000 THEN reason ELSE reason || char(10) || ? END,
                    first_event_time = MIN(first_event_time, ?), last_event_time = MAX(last_event_time, ?),
                    status = CASE WHEN status_set_manually = 0 AND status = 'resolved' THEN 'new' ELSE status END
                WHERE id = ?
                """).bind(rule.severity.rawValue, now, joined.reason, joined.reason, time, time, joined.incident).run()
            try connection.statement("UPDATE alerts SET incident_id = ? WHERE id = ?").bind(joined.incident, alertID).run()
        } else {
            try connection.statement("""
                INSERT INTO incidents (title, severity, status, reason, created_at, updated_at, first_event_time, last_event_time)
                VALUES (?, ?, 'new', ?, ?, ?, ?, ?)
                """).bind("\(rule.title) on \(event.machine.hostname)", rule.severity.rawValue,
                          "first alert: \(rule.title) on \(event.machine.hostname)", now, now, time, time).run()
            try connection.statement("UPDATE alerts SET incident_id = ? WHERE id = ?").bind(connection.lastInsertRowID, alertID).run()
        }
    }

    static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
