extension String {
    /// The text with `& < > " '` escaped, safe inside HTML elements and quoted attributes.
    ///
    /// Works on UTF-8 bytes: the five are ASCII, and no byte of a multi-byte character is ASCII.
    /// (Walking Characters instead would leave `<` unescaped when a combining mark follows it,
    /// since the two form one Character that is not `<`.)
    public var htmlEscaped: String {
        guard utf8.contains(where: { Self.htmlEscape($0) != nil }) else { return self }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(utf8.count + 32)
        for byte in utf8 {
            if let replacement = Self.htmlEscape(byte) {
                replacement.withUTF8Buffer { escaped.append(contentsOf: $0) }
            } else {
                escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    private static func htmlEscape(_ byte: UInt8) -> StaticString? {
        switch byte {
        case UInt8(ascii: "&"): "&amp;"
        case UInt8(ascii: "<"): "&lt;"
        case UInt8(ascii: ">"): "&gt;"
        case UInt8(ascii: "\""): "&quot;"
        case UInt8(ascii: "'"): "&#39;"
        default: nil
        }
    }
}
