import VigilModel

extension Store {
    /// One alert, or nil.
    public func alert(id: Int64) throws -> AlertRow? {
        try connection.statement("SELECT \(Self.alertColumns) FROM alert_view WHERE id = ?").bind(id).firstRow(Self.alertRow)
    }

    /// The alerts that follow `id` (opened by a detection after it was resolved or past its window).
    public func laterAlertIDs(following id: Int64) throws -> [Int64] {
        try connection.statement("SELECT id FROM alerts WHERE previous_alert_id = ? ORDER BY id").bind(id).rows { $0.int("id") }
    }

    /// The events linked to an alert, oldest first.
    public func alertEvents(id: Int64, limit: Int = 100) throws -> [EventRow] {
        try connection.statement("""
            SELECT \(Self.eventColumns)
            FROM alert_events ae JOIN events e ON e.id = ae.event_id JOIN machines m ON m.id = e.machine_id
            WHERE ae.alert_id = ? ORDER BY e.time LIMIT ?
            """).bind(id, limit).rows(Self.eventRow)
    }

    /// Comments on an alert or incident, oldest first.
    public func comments(alertID: Int64? = nil, incidentID: Int64? = nil) throws -> [CommentRow] {
        try connection.statement("SELECT author, text, created_at FROM comments WHERE alert_id IS ? AND incident_id IS ? ORDER BY id")
            .bind(alertID, incidentID).rows {
                CommentRow(author: $0.text("author"), text: $0.text("text"), createdAt: $0.time("created_at"))
            }
    }

    /// Applies `update` to every alert in `ids` in one transaction, auditing each change, and
    /// lets each touched incident's status follow its alerts. Returns how many alerts changed.
    @discardableResult
    public func updateAlerts(ids: [Int64], _ update: AlertUpdate, actor: String) throws -> Int {
        guard !update.isEmpty else { return 0 }
        if let status = update.status, !AlertUpdate.statuses.contains(status) {
            throw StoreError(.invalidValue, "status must be one of \(AlertUpdate.statuses.joined(separator: ", "))")
        }
        if let classification = update.classification, !AlertUpdate.classifications.contains(classification) {
            throw StoreError(.invalidValue, "classification must be one of \(AlertUpdate.classifications.joined(separator: ", "))")
        }
        return try connection.transaction {
            let now = Timestamp.now().microseconds
            var incidents: Set<Int64> = []
            var changed = 0
            for id in ids {
                guard let alert = try alert(id: id) else {
                    throw StoreError(.notFound, "there is no alert \(id); see `vigil alerts`")
                }
                var changes: [String] = []
                for (column, value, old) in [("status", update.status, Optional(alert.status)), ("classification", update.classification, alert.classification),
                                             ("determination", update.determination, alert.determination), ("assigned_to", update.assignedTo, alert.assignedTo)] {
                    guard let value, value != old else { continue }
                    // Column names come from the closed list above, never from input.
                    try connection.statement("UPDATE alerts SET \(column) = ?, updated_at = ? WHERE id = ?").bind(value, now, id).run()
                    changes.append("\(column): \(old ?? "-") → \(value)")
                }
                if let comment = update.comment {
                    try connection.statement("INSERT INTO comments (alert_id, author, text, created_at) VALUES (?, ?, ?, ?)").bind(id, actor, comment, now).run()
                    changes.append("comment: \(comment)")
                }
                guard !changes.isEmpty else { continue }
                changed += 1
                try appendAudit(actor: actor, action: "alert.update", target: "alert:\(id)", details: changes.joined(separator: "; "))
                try connection.appendOutbox(.alertUpdated, alertID: id, changes: changes.joined(separator: "; "))
                if let incident = alert.incidentID { incidents.insert(incident) }
            }
            for incident in incidents { try refreshIncidentStatus(incident, actor: actor) }
            return changed
        }
    }

    /// An incident follows its alerts: resolved when all are, in progress when any is, unless an analyst set it.
    func refreshIncidentStatus(_ id: Int64, actor: String) throws {
        guard let (current, manual) = try connection.statement("SELECT status, status_set_manually FROM incidents WHERE id = ?")
            .bind(id).firstRow({ ($0.text("status"), $0.bool("status_set_manually")) }), !manual else { return }
        let statuses = try connection.statement("SELECT status FROM alerts WHERE incident_id = ?").bind(id).rows { $0.text("status") }
        let derived = statuses.allSatisfy { $0 == "resolved" } ? "resolved" : (statuses.contains { $0 != "new" } ? "in_progress" : "new")
        guard derived != current else { return }
        try connection.statement("UPDATE incidents SET status = ?, updated_at = ? WHERE id = ?").bind(derived, Timestamp.now().microseconds, id).run()
        try appendAudit(actor: actor, action: "incident.status", target: "incident:\(id)", details: "status: \(current) → \(derived) (follows its alerts)")
        try connection.appendOutbox(.incidentUpdated, incidentID: id, changes: "status: \(current) → \(derived)")
    }

    /// Incidents, newest activity first.
    public func incidents(status: String? = nil, minimumSeverity: Severity? = nil, limit: Int = 100) throws -> [IncidentRow] {
        var conditions: [String] = []
        var values: [(any SQLValue)?] = []
        if let status { conditions.append("n.status = ?"); values.append(status) }
        if let minimumSeverity { conditions.append("n.severity >= ?"); values.append(minimumSeverity.rawValue) }
        values.append(min(limit, AlertFilter.pageCap))
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try connection.statement("""
            SELECT \(Self.incidentColumns) FROM incidents n \(whereClause) ORDER BY n.last_event_time DESC, n.id DESC LIMIT ?
            """).bind(values).rows(Self.incidentRow)
    }

    /// One incident, or nil.
    public func incident(id: Int64) throws -> IncidentRow? {
        try connection.statement("""
            SELECT \(Self.incidentColumns) FROM incidents n WHERE n.id = ?
            """).bind(id).firstRow(Self.incidentRow)
    }

    /// The columns `incidentRow` decodes, from `incidents n`.
    static let incidentColumns = """
        n.id, n.title, n.severity, n.status, n.reason, n.assigned_to, n.classification,
            (SELECT COUNT(*) FROM alerts a WHERE a.incident_id = n.id) AS alert_count,
            (SELECT group_concat(DISTINCT m.hostname) FROM alerts a JOIN machines m ON m.id = a.machine_id WHERE a.incident_id = n.id) AS machines,
            n.first_event_time, n.last_event_time, n.created_at
        """

    static func incidentRow(_ row: Row) -> IncidentRow {
        IncidentRow(id: row.int("id"), title: row.text("title"), severity: Severity(rawValue: Int(row.int("severity"))) ?? .informational,
                    status: row.text("status"), reason: row.text("reason"), assignedTo: row.optionalText("assigned_to"),
                    classification: row.optionalText("classification"), alertCount: row.int("alert_count"),
                    machines: row.text("machines").split(separator: ",").map(String.init),
                    firstEventTime: row.time("first_event_time"), lastEventTime: row.time("last_event_time"), createdAt: row.time("created_at"))
    }

    /// Sets an incident's status (which then no longer follows its alerts), assignee,
    /// classification or adds a comment; audited.
    public func updateIncident(id: Int64, status: String?, assignedTo: String?, classification: String?, comment: String?, actor: String) throws {
        try connection.transaction {
            guard let incident = try incident(id: id) else { throw StoreError(.notFound, "there is no incident \(id); see `vigil incidents`") }
            let now = Timestamp.now().microseconds
            var changes: [String] = []
            if let status, status != incident.status {
                guard AlertUpdate.statuses.contains(status) else {
                    throw StoreError(.invalidValue, "status must be one of \(AlertUpdate.statuses.joined(separator: ", "))")
                }
                try connection.statement("UPDATE incidents SET status = ?, status_set_manually = 1, updated_at = ? WHERE id = ?").bind(status, now, id).run()
                changes.append("status: \(incident.status) → \(status)")
            }
            if let assignedTo, assignedTo != incident.assignedTo {
                try connection.statement("UPDATE incidents SET assigned_to = ?, updated_at = ? WHERE id = ?").bind(assignedTo, now, id).run()
                changes.append("assigned_to: \(incident.assignedTo ?? "-") → \(assignedTo)")
            }
            if let classification, classification != incident.classification {
                guard AlertUpdate.classifications.contains(classification) else {
                    throw StoreError(.invalidValue, "classification must be one of \(AlertUpdate.classifications.joined(separator: ", "))")
                }
                try connection.statement("UPDATE incidents SET classification = ?, updated_at = ? WHERE id = ?").bind(classification, now, id).run()
                changes.append("classification: \(incident.classification ?? "-") → \(classification)")
            }
            if let comment {
                try connection.statement("INSERT INTO comments (incident_id, author, text, created_at) VALUES (?, ?, ?, ?)").bind(id, actor, comment, now).run()
                changes.append("comment: \(comment)")
            }
            if !changes.isEmpty {
                try appendAudit(actor: actor, action: "incident.update", target: "incident:\(id)", details: changes.joined(separator: "; "))
                try connection.appendOutbox(.incidentUpdated, incidentID: id, changes: changes.joined(separator: "; "))
            }
        }
    }
}
