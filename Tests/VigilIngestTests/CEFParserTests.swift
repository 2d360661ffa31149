import Testing
import VigilIngest

@Suite struct CEFParserTests {
    /// The extension splitter, which copies runs between delimiters at once, agrees with the
    /// plain reading one byte at a time on crafted extensions: escapes (also a lone trailing
    /// backslash), `=` without a key, empty keys, tabs and runs of spaces.
    @Test func extensionSplitAgreesWithReadingByteByByte() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["=", " ", "\\", "\\=", "\\n", "\\\\", "\t", "a", "bc", "key", "é", "cs1Label", "x=y", "  "]
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 0..<14, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let bytes = Array(text.utf8)
            let split = bytes.withUnsafeBufferPointer { CEFParser.parseExtension($0) }
            let expected = Self.referenceSplit(bytes)
            #expect(split.map(\.key) == expected.map(\.key), "\(text)")
            #expect(split.map(\.value) == expected.map(\.value), "\(text)")
        }
    }

    /// The splitting rule, one byte at a time: `\` escapes the next byte (`\n`, `\r` decoded);
    /// at each `=` the text since the last one ends with the next key, after its last space.
    static func referenceSplit(_ bytes: [UInt8]) -> [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        var key: [UInt8]?
        var value: [UInt8] = []
        var token: [UInt8] = []
        func finishValue() {
            guard let key, !key.isEmpty else { return }
            var trimmed = value[...]
            while let first = trimmed.first, first == 0x20 || first == 0x09 { trimmed.removeFirst() }
            while let last = trimmed.last, last == 0x20 || last == 0x09 { trimmed.removeLast() }
            pairs.append((String(decoding: key, as: UTF8.self), String(decoding: trimmed, as: UTF8.self)))
        }
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "\\") {
                guard let next = iterator.next() else {
                    token.append(byte)
                    break
                }
                token.append(next == UInt8(ascii: "n") ? 0x0A : next == UInt8(ascii: "r") ? 0x0D : next)
                continue
            }
            guard byte == UInt8(ascii: "=") else {
                token.append(byte)
                continue
            }
            if let space = token.lastIndex(of: 0x20) {
                value += token[..<space]
                finishValue()
                key = Array(token[(space + 1)...])
            } else {
                if key != nil {
                    value += token
                    finishValue()
                }
                key = token
            }
            value.removeAll()
            token.removeAll()
        }
        value += token
        finishValue()
        return pairs
    }
}
