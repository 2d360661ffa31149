import VigilModel

/// Analysts' changes to alerts and incidents, written once for both stores: every change is
/// audited and appended to the outbox in the transaction that makes it. Each alert and
/// incident row is locked before it is read (`SQLDialect.lockingRows`), so that changes made
/// on several nodes at once take turns: an incident's status then follows every alert change,
/// and each audited "old → new" is the value it replaced.
extension AlertTriage where Self: SQLWriter & AlertQueries & AuditLog {
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
        return try inTransaction {
            let now = Timestamp.now().microseconds
            var incidents: Set<Int64> = []
            var changed = 0
            for id in ids {
                _ = try read("SELECT id FROM alerts WHERE id = ?\(dialect.lockingRows)", [.int(id)]) { try $0.int("id") }
                guard let alert = try alert(id: id) else {
                    throw StoreError(.notFound, "there is no alert \(id); see `vigil alerts`")
                }
                var changes: [String] = []
                for (column, value, old) in [("status", update.status, Optional(alert.status)), ("classification", update.classification, alert.classification),
                                             ("determination", update.determination, alert.determination), ("assigned_to", update.assignedTo, alert.assignedTo)] {
                    guard let value, value != old else { continue }
                    // Column names come from the closed list above, never from input.
                    try write("UPDATE alerts SET \(column) = ?, updated_at = ? WHERE id = ?", [.text(value), .int(now), .int(id)])
                    changes.append("\(column): \(old ?? "-") → \(value)")
                }
                if let comment = update.comment {
                    try write("INSERT INTO comments (alert_id, author, text, created_at) VALUES (?, ?, ?, ?)", [.int(id), .text(actor), .text(comment), .int(now)])
                    changes.append("comment: \(comment)")
                }
                guard !changes.isEmpty else { continue }
                changed += 1
                try appendAudit(actor: actor, action: "alert.update", target: "alert:\(id)", details: changes.joined(separator: "; "))
                try appendOutbox(.alertUpdated, alertID: id, changes: changes.joined(separator: "; "))
                if let incident = alert.incidentID { incidents.insert(incident) }
            }
            for incident in incidents { try refreshIncidentStatus(incident, actor: actor) }
            return changed
        }
    }

    /// An incident follows its alerts: resolved when all are, in progress when any is, unless an analyst set it.
    private func refreshIncidentStatus(_ id: Int64, actor: String) throws {
        guard let (current, manual) = try readFirst("SELECT status, status_set_manually FROM incidents WHERE id = ?\(dialect.lockingRows)", [.int(id)], {
            (try $0.text("status"), try $0.int("status_set_manually") != 0)
        }), !manual else { return }
        let statuses = try read("SELECT status FROM alerts WHERE incident_id = ?", [.int(id)]) { try $0.text("status") }
        let derived = statuses.allSatisfy { $0 == "resolved" } ? "resolved" : (statuses.contains { $0 != "new" } ? "in_progress" : "new")
        guard derived != current else { return }
        try write("UPDATE incidents SET status = ?, updated_at = ? WHERE id = ?", [.text(derived), .int(Timestamp.now().microseconds), .int(id)])
        try appendAudit(actor: actor, action: "incident.status", target: "incident:\(id)", details: "status: \(current) → \(derived) (follows its alerts)")
        try appendOutbox(.incidentUpdated, incidentID: id, changes: "status: \(current) → \(derived)")
    }

    /// Sets an incident's status (which then no longer follows its alerts), assignee,
    /// classification or adds a comment; audited.
    public func updateIncident(id: Int64, status: String?, assignedTo: String?, classification: String?, comment: String?, actor: String) throws {
        try inTransaction {
            _ = try read("SELECT id FROM incidents WHERE id = ?\(dialect.lockingRows)", [.int(id)]) { try $0.int("id") }
            guard let incident = try incident(id: id) else { throw StoreError(.notFound, "there is no incident \(id); see `vigil incidents`") }
            let now = Timestamp.now().microseconds
            var changes: [String] = []
            if let status, status != incident.status {
                guard AlertUpdate.statuses.contains(status) else {
                    throw StoreError(.invalidValue, "status must be one of \(AlertUpdate.statuses.joined(separator: ", "))")
                }
                try write("UPDATE incidents SET status = ?, status_set_manually = 1, updated_at = ? WHERE id = ?", [.text(status), .int(now), .int(id)])
                changes.append("status: \(incident.status) → \(status)")
            }
            if let assignedTo, assignedTo != incident.assignedTo {
                try write("UPDATE incidents SET assigned_to = ?, updated_at = ? WHERE id = ?", [.text(assignedTo), .int(now), .int(id)])
                changes.append("assigned_to: \(incident.assignedTo ?? "-") → \(assignedTo)")
            }
            if let classification, classification != incident.classification {
                guard AlertUpdate.classifications.contains(classification) else {
                    throw StoreError(.invalidValue, "classification must be one of \(AlertUpdate.classifications.joined(separator: ", "))")
                }
                try write("UPDATE incidents SET classification = ?, updated_at = ? WHERE id = ?", [.text(classification), .int(now), .int(id)])
                changes.append("classification: \(incident.classification ?? "-") → \(classification)")
            }
            if let comment {
                try write("INSERT INTO comments (incident_id, author, text, created_at) VALUES (?, ?, ?, ?)", [.int(id), .text(actor), .text(comment), .int(now)])
                changes.append("comment: \(comment)")
            }
            if !changes.isEmpty {
                try appendAudit(actor: actor, action: "incident.update", target: "incident:\(id)", details: changes.joined(separator: "; "))
                try appendOutbox(.incidentUpdated, incidentID: id, changes: changes.joined(separator: "; "))
            }
        }
    }
}
