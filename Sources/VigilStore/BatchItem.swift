import VigilModel

/// One event ready to store: the event, its content-derived key and its detections.
public struct BatchItem: Sendable {
    public var event: Event
    public var key: Int64
    public var detections: [Detection]
    /// The event's fields as JSON, when the caller serialized them already (off the writer's thread).
    public var fieldsJSON: String?
    /// Dated further after its arrival than the allowed skew: stored with `future_time` set.
    public var futureDated: Bool

    public init(event: Event, key: Int64, detections: [Detection], fieldsJSON: String? = nil, futureDated: Bool = false) {
        self.event = event
        self.key = key
        self.detections = detections
        self.fieldsJSON = fieldsJSON
        self.futureDated = futureDated
    }
}
