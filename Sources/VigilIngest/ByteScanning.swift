import VigilModel

/// Searches over a record's UTF-8 bytes by offset, for the parsers that read records as bytes
/// (auditd, Sysmon for Linux): every delimiter they look for is ASCII, so every range they
/// find holds whole characters.
extension UnsafeBufferPointer<UInt8> {
    /// Whether the bytes from `offset` start with `prefix`'s.
    func hasPrefix(_ prefix: StaticString, at offset: Int) -> Bool {
        guard offset >= 0, offset + prefix.utf8CodeUnitCount <= count else { return false }
        for index in 0..<prefix.utf8CodeUnitCount where self[offset + index] != prefix.utf8Start[index] { return false }
        return true
    }

    /// How many bytes in `range` are `byte`: eight at a time, then one at a time for the rest.
    ///
    /// Unsafe inside: unaligned eight-byte loads from the buffer's base, each inside `range`
    /// (asserted in debug builds).
    package func count(of byte: UInt8, in range: Range<Int>) -> Int {
        assert(range.lowerBound >= 0 && range.upperBound <= count, "the range runs outside the buffer")
        let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let pattern = UInt64(byte) &* 0x0101_0101_0101_0101
        var found = 0
        var index = range.lowerBound
        if let base = baseAddress {
            while index + 8 <= range.upperBound {
                // A byte equal to `byte` is zero after the XOR; the expression sets the high bit of
                // exactly the zero bytes (the low seven bits are added alone, so no carry crosses
                // a byte), and the multiply sums those bits into the top byte.
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) ^ pattern
                let zeros = ~(((word & lows) &+ lows) | word | lows)
                found += Int(((zeros >> 7) &* 0x0101_0101_0101_0101) >> 56)
                index += 8
            }
        }
        while index < range.upperBound {
            if self[index] == byte { found += 1 }
            index += 1
        }
        return found
    }

    /// The first offset in `range` that holds `first`, `second` or `third` (repeat one to look
    /// for fewer), tested eight bytes at a time.
    ///
    /// Unsafe inside: unaligned eight-byte loads from the buffer's base, each inside `range`
    /// (asserted in debug builds).
    package func firstIndex(ofAny first: UInt8, _ second: UInt8, _ third: UInt8, in range: Range<Int>) -> Int? {
        assert(range.lowerBound >= 0 && range.upperBound <= count, "the range runs outside the buffer")
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        /// The high bit of each zero byte of `word` is set, and of no byte below the first zero
        /// one (bits above it may be set by a borrow: only the lowest counts).
        @inline(__always) func zeroBytes(_ word: UInt64) -> UInt64 { (word &- ones) & ~word & highs }
        var index = range.lowerBound
        if let base = baseAddress {
            let patterns = (UInt64(first) &* ones, UInt64(second) &* ones, UInt64(third) &* ones)
            while index + 8 <= range.upperBound {
                // Read little-endian, the first byte in memory is the lowest.
                let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                let found = zeroBytes(word ^ patterns.0) | zeroBytes(word ^ patterns.1) | zeroBytes(word ^ patterns.2)
                if found != 0 { return index + found.trailingZeroBitCount / 8 }
                index += 8
            }
        }
        while index < range.upperBound {
            let byte = self[index]
            if byte == first || byte == second || byte == third { return index }
            index += 1
        }
        return nil
    }

    /// The first offset in `range` that holds `byte`.
    func firstIndex(of byte: UInt8, in range: Range<Int>) -> Int? {
        var index = range.lowerBound
        while index < range.upperBound {
            if self[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// The text of the bytes in `range`.
    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: self[range]), as: UTF8.self)
    }

    /// The bytes in `range` read as `Int(_:)` reads text (an optional sign, then decimal digits),
    /// without making a String when they are plain digits.
    package func integer(_ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return Int(string(range)) }
        var value = 0
        for index in range {
            let digit = self[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return Int(string(range)) }
            value = value * 10 + Int(digit)
        }
        return value
    }
}
