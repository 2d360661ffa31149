import VigilModel

/// A comment on an alert or incident.
public struct CommentRow: Sendable {
    public var author: String
    public var text: String
    public var createdAt: Timestamp
}
