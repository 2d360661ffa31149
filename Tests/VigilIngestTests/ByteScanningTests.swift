import Testing
import VigilIngest
import VigilModel

@Suite struct ByteScanningTests {
    /// The eight-bytes-at-a-time count, searches and ASCII test agree with going byte by byte,
    /// at every alignment and length.
    @Test func byteSearchesAgreeWithGoingOneByOne() {
        var generator = SystemRandomNumberGenerator()
        // Mostly ASCII, so that many slices are all ASCII and many are not.
        let bytes: [UInt8] = (0..<300).map { _ in
            switch Int.random(in: 0..<40, using: &generator) {
            case 0: UInt8.random(in: 0x80...0xFF, using: &generator)
            case 1..<14: UInt8(ascii: "=")
            case 14..<16: 0x20
            case 16: 0x1D
            case 17: 0x1C
            default: UInt8.random(in: 0..<0x80, using: &generator)
            }
        }
        bytes.withUnsafeBufferPointer { buffer in
            for lower in 0..<40 {
                for upper in stride(from: lower, through: buffer.count, by: 7) {
                    let expected = buffer[lower..<upper].count { $0 == UInt8(ascii: "=") }
                    #expect(buffer.count(of: UInt8(ascii: "="), in: lower..<upper) == expected, "\(lower)..<\(upper)")
                    let slice = UnsafeBufferPointer(rebasing: buffer[lower..<upper])
                    #expect(slice.isASCII == slice.allSatisfy { $0 < 0x80 }, "\(lower)..<\(upper)")
                    let delimiters: [UInt8] = [0x20, UInt8(ascii: "="), 0x1D]
                    #expect(buffer.firstIndex(ofAny: 0x20, UInt8(ascii: "="), 0x1D, in: lower..<upper)
                            == (lower..<upper).first { delimiters.contains(buffer[$0]) }, "\(lower)..<\(upper)")
                    #expect(buffer.firstIndex(ofAny: 0x1D, 0x1D, 0x1D, in: lower..<upper) == (lower..<upper).first { buffer[$0] == 0x1D })
                    let needle: [UInt8] = [UInt8(ascii: "="), 0x20]
                    let expectedRange = (lower..<upper).first { $0 + 2 <= upper && buffer[$0] == needle[0] && buffer[$0 + 1] == needle[1] }
                    #expect(buffer.firstRange(of: "= ", in: lower..<upper) == expectedRange.map { $0..<$0 + 2 }, "\(lower)..<\(upper)")
                }
            }
        }
    }

    /// Reading digits straight from bytes gives what `Int(_:)` gives for the same text, signs,
    /// overflow and stray characters included.
    @Test(arguments: ["0", "07", "31", "+5", "-3", "", "-", "1a", " 1", "123456789012345678", "9223372036854775807",
                      "9223372036854775808", "12345678901234567890123"])
    func integerReadsAsIntDoes(text: String) {
        let bytes = Array(("<" + text + ">").utf8)
        bytes.withUnsafeBufferPointer { buffer in
            #expect(buffer.integer(1..<buffer.count - 1) == Int(text), "\(text)")
        }
    }
}
