/// Writes one JSON object member by member into UTF-8 bytes: for rows written by the million
/// (hunt matches), where `JSONEncoder` costs more than the detection that found them.
///
/// Members come out in the order they are written, which must be sorted by key, as
/// `JSONEncoder.vigil` sorts them (debug builds assert it). Strings are escaped as `JSONText`
/// escapes them.
public struct JSONObjectWriter {
    private var bytes: [UInt8]
    private var lastKey: String?

    public init(capacity: Int = 256) {
        bytes = [UInt8(ascii: "{")]
        bytes.reserveCapacity(capacity)
    }

    /// A text member.
    public mutating func member(_ key: String, _ value: String) {
        startMember(key)
        JSONText.appendQuoted(value, to: &bytes)
    }

    /// A whole-number member.
    public mutating func member(_ key: String, _ value: Int) {
        startMember(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// An array-of-text member.
    public mutating func member(_ key: String, _ values: [String]) {
        startMember(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A member whose value is JSON text already.
    public mutating func member(_ key: String, _ value: RawJSON) {
        startMember(key)
        bytes.append(contentsOf: value.text.utf8)
    }

    /// The object's text.
    public consuming func finish() -> String {
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    private mutating func startMember(_ key: String) {
        if let lastKey {
            assert(lastKey.utf8.lexicographicallyPrecedes(key.utf8), "JSONObjectWriter: '\(key)' written after '\(lastKey)'")
            bytes.append(UInt8(ascii: ","))
        }
        lastKey = key
        JSONText.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}

/// JSON text that is already valid JSON (written by `JSONText`), kept as text so that writing
/// it again costs a copy, not a parse and an encode.
public struct RawJSON: Sendable, Equatable, Encodable {
    public let text: String

    /// `text` must be valid JSON, as `JSONText.object` and `JSONObjectWriter` write it.
    public init(_ text: String) {
        self.text = text
    }

    /// Encodes the value the text holds (a generic encoder cannot take text as it is).
    public func encode(to encoder: any Encoder) throws {
        try JSONValue(parsing: text).encode(to: encoder)
    }
}
