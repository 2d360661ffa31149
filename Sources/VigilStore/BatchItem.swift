import VigilModel

/// One event ready to store: the event, its content-derived key and its detections.
public struct BatchItem: Sendable {
    public var event: Event
    /// Its identity, and the storage keys it may take.
    public var key: EventKey
    public var detections: [Detection]
    /// The event's fields as JSON, when the caller serialized them already (off the writer's thread).
    public var fieldsJSON: String?

    /// `key`: the event's, when the caller computed it already (off the writer's thread).
    public init(event: Event, key: EventKey? = nil, detections: [Detection], fieldsJSON: String? = nil) {
        self.event = event
        self.key = key ?? EventKey(event)
        self.detections = detections
        self.fieldsJSON = fieldsJSON
    }
}
