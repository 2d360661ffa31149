import VigilStore

// The store's rows, as the CLI lists them: their columns are their coding keys; these say
// which the table view shows.

extension AlertRow: Listable {
    static let tableColumns = ["id", "severity", "status", "title", "hostname", "os_platform", "event_count", "last_event_time",
                               "incident_id", "integration"]
}

extension IncidentRow: Listable {
    static let tableColumns = ["id", "severity", "status", "alert_count", "machines", "last_event_time", "title"]
}

extension MachineRow: Listable {}

extension EventRow: Listable {
    static let tableColumns = ["id", "time", "hostname", "os_platform", "category", "source_format", "integration", "raw"]
}

extension IntegrationRow: Listable {
    static let tableColumns = ["name", "platforms", "enabled", "since", "active_tokens", "last_data_at", "events_received", "events_refused"]
}

extension TokenRow: Listable {}
extension APIKeyRow: Listable {}
extension AuditRow: Listable {}
extension CompatibilityRow: Listable {}
extension ImportRow: Listable {}
extension RejectedRow: Listable {}
