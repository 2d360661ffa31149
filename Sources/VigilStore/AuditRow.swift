import VigilModel

/// One entry of the audit log.
public struct AuditRow: Sendable {
    public var id: Int64
    public var time: Timestamp
    public var actor: String
    public var action: String
    public var target: String
    public var details: String
}

extension AuditRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable { case id, time, actor, action, target, details }
}
