import VigilModel
#if canImport(Glibc)
import Glibc
#endif

/// A hand-written JSON scanner that flattens one object into fields named by dotted path
/// (`host.os.name`). Lists repeat their path once per element; `null` is a present field whose
/// value is `EventField.nullValue`.
///
/// It works on the record's UTF-8 bytes and allocates only the strings it keeps.
struct JSONFlattener {
    struct SyntaxError: Error {
        var offset: Int
        var message: String
    }

    /// Objects and lists nested deeper than this are rejected, so hostile input cannot exhaust the stack.
    static let maximumDepth = 64

    private var keys = FieldKeyCache()
    private var path: [UInt8] = []

    /// Parses `bytes` as one JSON object and appends its leaves to `fields`.
    mutating func flatten(_ bytes: UnsafeBufferPointer<UInt8>, into fields: inout [EventField]) throws(SyntaxError) {
        var scanner = Scanner(bytes: bytes)
        scanner.skipWhitespace()
        guard scanner.peek == UInt8(ascii: "{") else {
            throw SyntaxError(offset: scanner.index, message: "expected a JSON object")
        }
        path.removeAll(keepingCapacity: true)
        try value(&scanner, depth: 0, into: &fields)
        scanner.skipWhitespace()
        guard scanner.index == bytes.count else {
            throw SyntaxError(offset: scanner.index, message: "unexpected text after the JSON object")
        }
    }

    private mutating func value(_ scanner: inout Scanner, depth: Int, into fields: inout [EventField]) throws(SyntaxError) {
        scanner.skipWhitespace()
        guard let byte = scanner.peek else { throw SyntaxError(offset: scanner.index, message: "the record ends where a value was expected") }
        if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "["), depth == Self.maximumDepth {
            throw SyntaxError(offset: scanner.index, message: "objects and lists nest deeper than \(Self.maximumDepth) levels")
        }
        switch byte {
        case UInt8(ascii: "{"):
            scanner.index += 1
            let base = path.count
            scanner.skipWhitespace()
            if scanner.peek == UInt8(ascii: "}") {
                scanner.index += 1
                return
            }
            while true {
                scanner.skipWhitespace()
                guard scanner.peek == UInt8(ascii: "\"") else { throw SyntaxError(offset: scanner.index, message: "expected a quoted key") }
                if base > 0 { path.append(UInt8(ascii: ".")) }
                try scanner.appendString(to: &path)
                scanner.skipWhitespace()
                guard scanner.peek == UInt8(ascii: ":") else { throw SyntaxError(offset: scanner.index, message: "expected ':' after a key") }
                scanner.index += 1
                try value(&scanner, depth: depth + 1, into: &fields)
                path.removeSubrange(base...)
                scanner.skipWhitespace()
                guard let separator = scanner.peek else { throw SyntaxError(offset: scanner.index, message: "the object is not closed") }
                scanner.index += 1
                if separator == UInt8(ascii: "}") { return }
                guard separator == UInt8(ascii: ",") else { throw SyntaxError(offset: scanner.index - 1, message: "expected ',' or '}'") }
            }
        case UInt8(ascii: "["):
            scanner.index += 1
            scanner.skipWhitespace()
            if scanner.peek == UInt8(ascii: "]") {
                scanner.index += 1
                return
            }
            while true {
                try value(&scanner, depth: depth + 1, into: &fields)
                scanner.skipWhitespace()
                guard let separator = scanner.peek else { throw SyntaxError(offset: scanner.index, message: "the list is not closed") }
                scanner.index += 1
                if separator == UInt8(ascii: "]") { return }
                guard separator == UInt8(ascii: ",") else { throw SyntaxError(offset: scanner.index - 1, message: "expected ',' or ']'") }
            }
        case UInt8(ascii: "\""):
            emit(try scanner.string(), into: &fields)
        case UInt8(ascii: "t"):
            try scanner.literal("true")
            emit("true", into: &fields)
        case UInt8(ascii: "f"):
            try scanner.literal("false")
            emit("false", into: &fields)
        case UInt8(ascii: "n"):
            try scanner.literal("null")
            emit(EventField.nullValue, into: &fields)
        default:
            emit(try scanner.number(), into: &fields)
        }
    }

    private mutating func emit(_ value: String, into fields: inout [EventField]) {
        // The name is looked up from the path's bytes: no String is made for it.
        let key = path.withUnsafeBufferPointer { keys.key(forUTF8: $0) }
        fields.append(EventField(key, value))
    }

    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while index < bytes.count {
                let byte = bytes[index]
                guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { return }
                index += 1
            }
        }

        mutating func literal(_ word: StaticString) throws(SyntaxError) {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count,
                memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0
            else { throw SyntaxError(offset: index, message: "invalid literal; expected \(word)") }
            index += count
        }

        mutating func number() throws(SyntaxError) -> String {
            let start = index
            if peek == UInt8(ascii: "-") { index += 1 }
            var digits = 0
            while let byte = peek, (byte >= 48 && byte <= 57) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
                || byte == UInt8(ascii: "E") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            {
                if byte >= 48 && byte <= 57 { digits += 1 }
                index += 1
            }
            guard digits > 0 else { throw SyntaxError(offset: start, message: "expected a value") }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }

        /// Appends a quoted string's bytes to `bytes`, with its escapes decoded; `index` is at
        /// the opening quote. A string without escapes is appended as it stands, with no String made.
        mutating func appendString(to output: inout [UInt8]) throws(SyntaxError) {
            let opening = index
            var end = index + 1
            while end < bytes.count {
                let byte = bytes[end]
                if byte == UInt8(ascii: "\"") {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[opening + 1..<end]))
                    index = end + 1
                    return
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                end += 1
            }
            output.append(contentsOf: try string().utf8)
        }

        /// A quoted string with its escapes decoded; `index` is at the opening quote.
        mutating func string() throws(SyntaxError) -> String {
            let opening = index
            index += 1
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw SyntaxError(offset: index, message: "control character inside a string") }
                index += 1
            }
            var decoded = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: decoded, as: UTF8.self)
                }
                if byte < 0x20 { throw SyntaxError(offset: index, message: "control character inside a string") }
                guard byte == UInt8(ascii: "\\") else {
                    decoded.append(byte)
                    index += 1
                    continue
                }
                index += 1
                guard let escape = peek else { break }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalarValue = try hex4()
                    if (0xD800..<0xDC00).contains(scalarValue), peek == UInt8(ascii: "\\"),
                        index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
                    {
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw SyntaxError(offset: index - 6, message: "invalid UTF-16 surrogate pair") }
                        scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
                    decoded.append(contentsOf: String(scalar).utf8)
                default:
                    throw SyntaxError(offset: index - 1, message: "invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
                }
            }
            throw SyntaxError(offset: opening, message: "unterminated string")
        }

        private mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard bytes.count - index >= 4 else { throw SyntaxError(offset: index, message: "truncated \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case 48...57: digit = byte - 48
                case 65...70: digit = byte - 55
                case 97...102: digit = byte - 87
                default: throw SyntaxError(offset: index, message: "invalid hex digit in \\u escape")
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }
    }
}
