/// Minimal, allocation-conscious JSON text writing for hot paths and stable CLI output.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` as a JSON string literal to `output`.
    public static func appendQuoted(_ text: String, to output: inout String) {
        output += quoted(text)
    }

    /// `fields` as one JSON object; a name that repeats becomes an array of its values. A
    /// one-off: code that writes more than one object keeps a `FieldsJSONWriter`, whose name
    /// table and buffer a fresh one builds again for every object.
    public static func object(fields: [EventField]) -> String {
        var writer = FieldsJSONWriter()
        return writer.object(fields)
    }

    /// Whether any key appears twice. Keys are interned ids, nearly always small: those under
    /// 1,024 are checked against a bitmap on the stack, in one pass. Only a larger id pays for
    /// a comparison with the keys after it (a repeat is found at its first occurrence).
    static func hasRepeatedKeys(_ fields: UnsafeBufferPointer<EventField>) -> Bool {
        let words = 16
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { seen in
            seen.initialize(repeating: 0)
            for index in fields.indices {
                let key = Int(fields[index].key.rawValue)
                guard key < words * 64 else {
                    if fields[(index + 1)...].contains(where: { $0.key == fields[index].key }) { return true }
                    continue
                }
                let bit: UInt64 = 1 << UInt64(key & 63)
                if seen[key >> 6] & bit != 0 { return true }
                seen[key >> 6] |= bit
            }
            return false
        }
    }

    /// Appends `text` as a JSON string literal, in UTF-8, to `sink`: runs that need no
    /// escaping are copied whole.
    static func appendQuoted<Sink: ByteSink>(_ text: String, to sink: inout Sink) {
        sink.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for position in 0..<utf8.count {
                let byte = utf8[position]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                sink.append(UnsafeBufferPointer(rebasing: utf8[runStart..<position]))
                runStart = position + 1
                sink.append(0x5C)
                switch byte {
                case 0x22, 0x5C: sink.append(byte)
                case 0x0A: sink.append(UInt8(ascii: "n"))
                case 0x0D: sink.append(UInt8(ascii: "r"))
                case 0x09: sink.append(UInt8(ascii: "t"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    sink.append(UInt8(ascii: "u"))
                    sink.append(UInt8(ascii: "0"))
                    sink.append(UInt8(ascii: "0"))
                    sink.append(hex.utf8Start[Int(byte >> 4)])
                    sink.append(hex.utf8Start[Int(byte & 0xF)])
                }
            }
            sink.append(UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        sink.append(UInt8(ascii: "\""))
    }
}

extension JSONText {
    /// The value of member `name` of the JSON object `json`, found by scanning its bytes: no
    /// parse of the whole object (hunting's `field()` reads one field of millions of events).
    /// Nil when the object has no such member, or the text is not an object.
    public static func member(_ name: String, in json: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var scanner = MemberScanner(bytes: json)
        let wanted = Array(name.utf8)
        scanner.skipSpace()
        guard scanner.take(UInt8(ascii: "{")) else { return nil }
        while true {
            scanner.skipSpace()
            guard let keyRange = scanner.string() else { return nil }
            scanner.skipSpace()
            guard scanner.take(UInt8(ascii: ":")) else { return nil }
            scanner.skipSpace()
            let valueStart = scanner.position
            guard scanner.skipValue() else { return nil }
            let key = json[keyRange]
            if key.elementsEqual(wanted) || (key.contains(UInt8(ascii: "\\")) && decodeString(json, keyRange) == name) {
                return value(json, valueStart..<scanner.position)
            }
            scanner.skipSpace()
            guard scanner.take(UInt8(ascii: ",")) else { return nil }
        }
    }

    /// A member's value: strings without escapes and scalars directly, the rest through the parser.
    private static func value(_ json: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> JSONValue? {
        guard let first = range.first.map({ json[$0] }) else { return nil }
        switch first {
        case UInt8(ascii: "\""):
            let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
            return decodeString(json, inner).map(JSONValue.string)
        case UInt8(ascii: "t"): return .bool(true)
        case UInt8(ascii: "f"): return .bool(false)
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "["), UInt8(ascii: "{"): return JSONValue(parsing: String(decoding: json[range], as: UTF8.self))
        default: return Double(String(decoding: json[range], as: UTF8.self)).map(JSONValue.number)
        }
    }

    /// The text of a JSON string's contents (between its quotes): bytes as they are when there
    /// is no escape, else through the parser.
    private static func decodeString(_ json: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        let contents = json[range]
        guard contents.contains(UInt8(ascii: "\\")) else { return String(decoding: contents, as: UTF8.self) }
        guard case .string(let text) = JSONValue(parsing: "\"" + String(decoding: contents, as: UTF8.self) + "\"") else { return nil }
        return text
    }

    /// A cursor over JSON text that skips strings and values without decoding them; every read
    /// is bounds-checked, so malformed text ends the scan instead of reading past it.
    private struct MemberScanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

        mutating func skipSpace() {
            while position < bytes.count, Self.isSpace(bytes[position]) { position += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// Skips a string; returns the range of its contents (between the quotes).
        mutating func string() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\\"): position += 2
                case UInt8(ascii: "\""):
                    position += 1
                    return start..<(position - 1)
                default: position += 1
                }
            }
            return nil
        }

        /// Skips one value: a string, an array or object (nesting counted, strings skipped), or a scalar.
        mutating func skipValue() -> Bool {
            guard position < bytes.count else { return false }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                return string() != nil
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                var depth = 0
                while position < bytes.count {
                    switch bytes[position] {
                    case UInt8(ascii: "\""):
                        guard string() != nil else { return false }
                        continue
                    case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                    case UInt8(ascii: "]"), UInt8(ascii: "}"):
                        depth -= 1
                        if depth == 0 {
                            position += 1
                            return true
                        }
                    default: break
                    }
                    position += 1
                }
                return false
            default:
                let start = position
                while position < bytes.count, bytes[position] != UInt8(ascii: ","), bytes[position] != UInt8(ascii: "}"),
                      !Self.isSpace(bytes[position]) {
                    position += 1
                }
                return position > start
            }
        }
    }
}
