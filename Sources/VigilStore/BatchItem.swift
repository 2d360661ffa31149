import VigilModel

/// One event ready to store: the event, its content-derived key and its detections.
public struct BatchItem: Sendable {
    public var event: Event
    /// Its identity, and the storage keys it may take; nil when the caller did not compute it
    /// (the writer then does). A hunt's reader keys only the events some rule matched, and
    /// hands on no other.
    public var key: EventKey?
    public var detections: [Detection]
    /// The event's fields as JSON, when the caller serialized them already (off the writer's thread).
    public var fieldsJSON: String?
}

// The initializers live in an extension so that they can hand over to the memberwise one: an
// initializer that assigns the stored properties itself built the item twice on the stack and
// copied it (a retain and a release of everything the event holds), even when inlined.
extension BatchItem {
    /// An item keyed here.
    public init(event: Event, detections: [Detection], fieldsJSON: String? = nil) {
        self.init(event: event, key: EventKey(event), detections: detections, fieldsJSON: fieldsJSON)
    }

    /// `key`: the event's, computed by the caller (off the writer's thread).
    public init(event: Event, precomputedKey key: EventKey?, detections: [Detection], fieldsJSON: String? = nil) {
        self.init(event: event, key: key, detections: detections, fieldsJSON: fieldsJSON)
    }
}
