import VigilModel
import VigilStore

/// Everything known about one alert, loaded once for `vigil alert show` and `GET /api/v1/alerts/{id}`.
public struct AlertDetail: Encodable, Sendable {
    public let alert: AlertRow
    public let events: [EventRow]
    public let incident: IncidentRow?
    public let comments: [CommentRow]
    public let history: [AuditRow]
    /// The alerts that follow this one: opened by detections after it was resolved or past its window.
    public let laterAlertIDs: [Int64]

    /// Loads the alert `id`, or nil when there is none.
    public init?(id: Int64, from store: any AlertQueries & AuditLog) throws {
        guard let alert = try store.alert(id: id) else { return nil }
        self.alert = alert
        events = try store.alertEvents(id: id, limit: 100)
        incident = try alert.incidentID.flatMap { try store.incident(id: $0) }
        comments = try store.comments(alertID: id, incidentID: nil)
        history = try store.history(of: "alert:\(id)")
        laterAlertIDs = try store.laterAlertIDs(following: id)
    }

    enum CodingKeys: String, CodingKey {
        case description, events, laterAlertIDs = "later_alert_ids", incident, comments, history
    }

    /// An event as the detail shows it: its fields and raw record.
    struct Event: Encodable {
        var id: Int64
        var time: Timestamp
        var category: String?
        var fields: JSONValue
        var raw: String

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(time, forKey: .time)
            try container.encode(category, forKey: .category)
            try container.encode(fields, forKey: .fields)
            try container.encode(raw, forKey: .raw)
        }

        enum CodingKeys: String, CodingKey { case id, time, category, fields, raw }
    }

    /// One entry of the alert's history.
    struct Change: Encodable {
        var time: Timestamp
        var actor: String
        var action: String
        var details: String
    }

    /// One object: the alert's columns plus `description`, `events` (with raw records),
    /// `later_alert_ids`, `incident`, `comments` and `history`.
    public func encode(to encoder: any Encoder) throws {
        try alert.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(alert.description, forKey: .description)
        try container.encode(events.map { Event(id: $0.id, time: $0.time, category: $0.category, fields: JSONValue(parsing: $0.fieldsJSON), raw: $0.raw) },
                             forKey: .events)
        try container.encode(laterAlertIDs, forKey: .laterAlertIDs)
        try container.encode(incident, forKey: .incident)
        try container.encode(comments, forKey: .comments)
        try container.encode(history.map { Change(time: $0.time, actor: $0.actor, action: $0.action, details: $0.details) }, forKey: .history)
    }
}
