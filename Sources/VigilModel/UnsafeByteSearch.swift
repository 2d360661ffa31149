#if canImport(Glibc)
import Glibc
#endif

extension StringProtocol {
    /// The first occurrence of `needle`, found with `memchr` and `memcmp` over the UTF-8 bytes
    /// (`firstRange(of:in:)`). Parsers (and `OSPlatform`) use it instead of Foundation's
    /// `range(of:)`, which bridges to NSString and ran at a tenth of the speed in profiles.
    package func byteRange(of needle: StaticString) -> Range<Index>? {
        let found: Int? = utf8.withContiguousStorageIfAvailable { haystack in
            haystack.firstRange(of: needle, in: 0..<haystack.count)?.lowerBound
        } ?? nil
        guard let found else { return nil }
        let lower = utf8.index(startIndex, offsetBy: found)
        return lower..<utf8.index(lower, offsetBy: needle.utf8CodeUnitCount)
    }

    /// True when `needle` occurs (a byte search, see `byteRange(of:)`).
    package func hasBytes(_ needle: StaticString) -> Bool { byteRange(of: needle) != nil }
}

extension UnsafeBufferPointer<UInt8> {
    /// The first range in `range` whose bytes are `needle`'s: `memchr` finds candidates for its
    /// first byte, `memcmp` confirms the rest.
    ///
    /// Unsafe inside: `memchr` and `memcmp` over the buffer's bytes, bounded by `range`
    /// (asserted in debug builds).
    package func firstRange(of needle: StaticString, in range: Range<Int>) -> Range<Int>? {
        assert(range.lowerBound >= 0 && range.upperBound <= count, "the range runs outside the buffer")
        let length = needle.utf8CodeUnitCount
        guard let base = baseAddress, length > 0 else { return nil }
        let last = range.upperBound - length
        var offset = range.lowerBound
        while offset <= last {
            guard let hit = memchr(base + offset, Int32(needle.utf8Start.pointee), last - offset + 1) else { return nil }
            let position = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
            assert(position >= offset && position <= last, "memchr answered outside the range it was given")
            if memcmp(base + position, needle.utf8Start, length) == 0 { return position..<position + length }
            offset = position + 1
        }
        return nil
    }

    /// True when every byte is ASCII, tested eight bytes at a time.
    ///
    /// Unsafe inside: unaligned eight-byte loads from the buffer's base, each inside the buffer
    /// (asserted in debug builds). Inlinable: the detector tests values with it on its hot path.
    @inlinable @inline(__always)
    package var isASCII: Bool {
        var index = 0
        if let base = baseAddress {
            while index + 8 <= count {
                assert(index >= 0, "the load runs outside the buffer")
                if UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
                index += 8
            }
        }
        while index < count {
            if self[index] >= 0x80 { return false }
            index += 1
        }
        return true
    }
}
