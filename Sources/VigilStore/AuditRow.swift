import VigilModel

/// One entry of the audit log.
public struct AuditRow: Sendable {
    public var id: Int64
    public var time: Timestamp
    public var actor: String
    public var action: String
    public var target: String
    public var details: String

    /// Every column, as a store reads them.
    package init(id: Int64, time: Timestamp, actor: String, action: String, target: String, details: String) {
        self.id = id
        self.time = time
        self.actor = actor
        self.action = action
        self.target = target
        self.details = details
    }
}

extension AuditRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable { case id, time, actor, action, target, details }
}
