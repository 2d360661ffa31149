import Foundation
import VigilModel

/// Turns one row's encoding into the plain text of each column, for the table and CSV views:
/// text as it is, numbers in decimal, null as empty, a time in ISO 8601, a list of words joined
/// with commas, and anything nested as its JSON.
final class ColumnEncoder: Encoder {
    let codingPath: [any CodingKey] = []
    let userInfo: [CodingUserInfoKey: Any] = [:]
    fileprivate var cells: [String: String] = [:]

    /// Each column's text, by column name.
    static func cells(of row: some Encodable) throws -> [String: String] {
        let encoder = ColumnEncoder()
        try row.encode(to: encoder)
        return encoder.cells
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Columns<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        preconditionFailure("a listed row encodes as an object of columns, not an array")
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        preconditionFailure("a listed row encodes as an object of columns, not a single value")
    }

    /// The text of one cell.
    fileprivate static func text(of value: any Encodable) throws -> String {
        switch value {
        case let optional as any OptionalCell: return try optional.cellText
        case let text as String: return text
        case let number as Int64: return String(number)
        case let number as Int: return String(number)
        case let flag as Bool: return flag ? "true" : "false"
        case let time as Timestamp: return time.iso8601
        case let words as [String]: return words.joined(separator: ",")
        case let json as RawJSON: return json.text
        default: return String(decoding: try JSONEncoder.vigil.encode(value), as: UTF8.self)
        }
    }
}

/// An optional column: empty when nil.
private protocol OptionalCell {
    var cellText: String { get throws }
}

extension Optional: OptionalCell where Wrapped: Encodable {
    fileprivate var cellText: String {
        get throws {
            guard let self else { return "" }
            return try ColumnEncoder.text(of: self)
        }
    }
}

private struct Columns<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: ColumnEncoder
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) { encoder.cells[key.stringValue] = "" }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        encoder.cells[key.stringValue] = try ColumnEncoder.text(of: value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        preconditionFailure("column '\(key.stringValue)': encode a nested value as one Encodable, not a nested container")
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        preconditionFailure("column '\(key.stringValue)': encode a nested value as one Encodable, not a nested container")
    }

    mutating func superEncoder() -> any Encoder { preconditionFailure("listed rows have no superclass encoding") }

    mutating func superEncoder(forKey key: Key) -> any Encoder { preconditionFailure("listed rows have no superclass encoding") }
}
