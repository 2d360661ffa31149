import Foundation
import VigilModel
import VigilStore

extension PostgresWriter: CorrelationQueue {
    public func enqueue(_ detections: [QueuedDetection]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var fields: [String] = [], indicators: [String] = []
        for detection in detections {
            fields.append(storable(String(decoding: try encoder.encode(detection.fields), as: UTF8.self)))
            indicators.append(storable(String(decoding: try encoder.encode(detection.indicators.map { [$0.kind, $0.value] }), as: UTF8.self)))
        }
        try session.execute("""
            INSERT INTO detection_queue (event_id, event_key, event_time, machine_id, hostname, integration, rule_id, fields, indicators, enqueued_at)
            SELECT e, k, t, m, h, i, r, f, n, $10
            FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                AS q(e, k, t, m, h, i, r, f, n)
            """, [detections.map(\.eventID), detections.map(\.eventKey), detections.map(\.eventTime.microseconds), detections.map(\.machineID),
                  detections.map { storable($0.hostname) }, detections.map(\.integration), detections.map(\.ruleID), fields, indicators,
                  Timestamp.now().microseconds])
    }

    /// A session-level advisory lock: PostgreSQL releases it when this connection ends, however
    /// the node ends (a `kill -9` closes its socket at once; a host that vanishes is noticed
    /// after the server's TCP keepalive).
    public func takeCorrelatorRole() throws -> Bool {
        let held = try session.query("SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END::int8 AS held", [PostgresStore.correlatorLock])
            .first?.int("held") == 1
        roleConnection = held ? session.connections : nil
        return held
    }

    /// False once the connection that took the role was lost (its lock went with it), even if
    /// the session has connected again since.
    public var holdsCorrelatorRole: Bool { roleConnection == session.connections }

    /// Also locks the claimed detections' machines, in the host-name order ingest batches lock
    /// theirs, before any alert of them changes: the correlator and the ingest nodes then take
    /// turns on a machine instead of deadlocking on it.
    public func claimQueued(limit: Int) throws -> [QueuedDetection] {
        let claimed = try claim(limit: limit)
        if !claimed.isEmpty {
            try session.execute("""
                SELECT 1 FROM machines WHERE id = ANY($1::int8[]) ORDER BY lower(hostname) FOR UPDATE
                """, [Array(Set(claimed.map(\.machineID)))])
        }
        return claimed
    }

    private func claim(limit: Int) throws -> [QueuedDetection] {
        let decoder = JSONDecoder()
        return try session.query("""
            SELECT id, event_id, event_key, event_time, machine_id, hostname, integration, rule_id, fields, indicators
            FROM detection_queue ORDER BY event_time, id LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [Int64(limit)]).map { row in
            let fields = (try? decoder.decode([String: String].self, from: Data(try row.text("fields").utf8))) ?? [:]
            let indicators = (try? decoder.decode([[String]].self, from: Data(try row.text("indicators").utf8))) ?? []
            return QueuedDetection(
                id: try row.int("id"), eventID: try row.int("event_id"), eventKey: try row.int("event_key"), eventTime: try row.time("event_time"),
                machineID: try row.int("machine_id"), hostname: try row.text("hostname"), integration: try row.text("integration"),
                ruleID: try row.text("rule_id"), fields: fields,
                indicators: indicators.compactMap { $0.count == 2 ? Indicator(kind: $0[0], value: $0[1]) : nil })
        }
    }

    public func removeQueued(ids: [Int64]) throws {
        try session.execute("DELETE FROM detection_queue WHERE id = ANY($1::int8[])", [ids])
    }

    public func correlationState() throws -> [(correlationID: String, groupKey: String, state: String)] {
        try session.correlationState()
    }

    public func saveCorrelationState(_ rows: [(correlationID: String, groupKey: String, state: String)]) throws {
        try session.replaceCorrelationState(rows)
    }
}
