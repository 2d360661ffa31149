import Foundation

/// Any JSON value, for embedding JSON text that was stored as text (an event's fields, an
/// alert's matched fields) in a document `JSONEncoder` writes.
public enum JSONValue: Codable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value `text` holds; a text that is not JSON stays a string, so nothing is lost.
    public init(parsing text: String) {
        self = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension Timestamp: Encodable {
    /// An ISO 8601 UTC string with milliseconds (`2026-11-27T10:00:00.000Z`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }
}

extension JSONEncoder {
    /// The encoder of every JSON document Vigil writes (CLI output, HTTP bodies): keys sorted,
    /// so output is the same from run to run, and slashes left unescaped.
    public static var vigil: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension JSONValue {
    /// The value as an analyst reads it in a cell: text as is, whole numbers without a
    /// fraction, null as nothing, arrays and objects as JSON.
    public var plainText: String {
        switch self {
        case .string(let text): return text
        case .number(let number): return number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): return String(flag)
        case .null: return ""
        case .array, .object: return (try? String(decoding: JSONEncoder.vigil.encode(self), as: UTF8.self)) ?? ""
        }
    }
}
