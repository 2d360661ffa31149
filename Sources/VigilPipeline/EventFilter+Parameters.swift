import Foundation
import VigilModel
import VigilStore

extension EventFilter {
    /// The parameters of `GET /api/v1/events` and a machine's timeline, as `vigil events` names
    /// its options; `cursor` continues a listing where the last page's `next` said.
    public static let parameterNames = ["machine", "category", "since", "until", "limit", "cursor"]

    /// The most events one page holds.
    public static let pageCap = 1_000

    /// The filter that named parameters ask for; an unknown name or a bad value is an error
    /// that names it and says what it takes.
    public init(parameters: [String: String]) throws(AlertFilter.ParameterError) {
        self.init()
        func fail(_ message: String) -> AlertFilter.ParameterError { AlertFilter.ParameterError(description: message) }
        if let unknown = parameters.keys.sorted().first(where: { !Self.parameterNames.contains($0) }) {
            throw fail("unknown parameter '\(unknown)'; use \(Self.parameterNames.joined(separator: ", "))")
        }
        func time(_ name: String) throws(AlertFilter.ParameterError) -> Timestamp? {
            guard let text = parameters[name] else { return nil }
            guard let time = Timestamp(absoluteOrRelative: text) else {
                throw fail("\(name) '\(text)' is neither ISO 8601 (2026-11-27T10:00:00Z) nor relative (30m, 24h, 7d, 2w)")
            }
            return time
        }
        machine = parameters["machine"]
        category = parameters["category"]
        since = try time("since")
        until = try time("until")
        if let text = parameters["limit"] {
            guard let value = Int(text), value > 0 else { throw fail("limit must be a positive number (at most \(Self.pageCap))") }
            limit = min(value, Self.pageCap)
        }
        if let cursor = parameters["cursor"] {
            guard let position = EventPosition(cursor: cursor) else {
                throw fail("the cursor is not one this server issued; start again without it")
            }
            after = position
        }
    }
}

extension EventPosition {
    /// The opaque `next` cursor a page of events ends with.
    public var cursor: String { Data("event:\(time.microseconds):\(id)".utf8).base64EncodedString() }

    /// The position a cursor from `cursor` names, or nil when it is not one.
    public init?(cursor: String) {
        guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "event", let time = Int64(parts[1]), let id = Int64(parts[2]) else { return nil }
        self.init(time: Timestamp(microseconds: time), id: id)
    }
}
