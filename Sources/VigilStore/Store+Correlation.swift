extension Store {
    /// Saved correlation windows.
    public func correlationState() throws -> [(correlationID: String, groupKey: String, state: String)] {
        try connection.statement("SELECT correlation_id, group_key, state FROM correlation_state").rows {
            ($0.text("correlation_id"), $0.text("group_key"), $0.text("state"))
        }
    }

    /// Replaces the saved correlation windows in one transaction.
    public func saveCorrelationState(_ rows: [(correlationID: String, groupKey: String, state: String)]) throws {
        try connection.transaction {
            try connection.execute("DELETE FROM correlation_state")
            let insert = try connection.statement("INSERT INTO correlation_state (correlation_id, group_key, state) VALUES (?, ?, ?)")
            for row in rows { try insert.bind(row.correlationID, row.groupKey, row.state).run() }
        }
    }
}
