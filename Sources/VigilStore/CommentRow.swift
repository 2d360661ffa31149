import VigilModel

/// A comment on an alert or incident.
public struct CommentRow: Sendable {
    public var author: String
    public var text: String
    public var createdAt: Timestamp
}

extension CommentRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable { case author, text, createdAt = "time" }
}
