import VigilModel

/// The audit log: every toggle, token, key and alert change, and every refused ingest.
public protocol AuditLog: AnyObject {
    /// Appends one entry (inside the caller's transaction, if any).
    func appendAudit(actor: String, action: String, target: String, details: String) throws

    /// Entries, newest first, filtered by action (or its family: `token` matches `token.create`), target and time.
    func audit(action: String?, target: String?, since: Timestamp?, limit: Int) throws -> [AuditRow]

    /// The history of one target (`alert:7`, `incident:3`), oldest first.
    func history(of target: String) throws -> [AuditRow]
}
