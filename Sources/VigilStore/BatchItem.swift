import VigilModel

/// One event ready to store: the event, its content-derived key and its detections.
public struct BatchItem: Sendable {
    public var event: Event
    /// Its identity, and the storage keys it may take; nil when it was read for a hunt and
    /// matched nothing (nothing stores or correlates it, so its digest is not taken).
    public var key: EventKey?
    public var detections: [Detection]
    /// The event's fields as JSON, when the caller serialized them already (off the writer's thread).
    public var fieldsJSON: String?

    /// An item keyed here.
    public init(event: Event, detections: [Detection], fieldsJSON: String? = nil) {
        self.init(event: event, key: EventKey(event), detections: detections, fieldsJSON: fieldsJSON)
    }

    /// `key`: the event's, computed by the caller (off the writer's thread).
    public init(event: Event, key: EventKey?, detections: [Detection], fieldsJSON: String? = nil) {
        self.event = event
        self.key = key
        self.detections = detections
        self.fieldsJSON = fieldsJSON
    }
}
