#if canImport(Glibc)
import Glibc
#endif

extension StringProtocol {
    /// The first occurrence of `needle`, found with `memchr` and `memcmp` over the UTF-8 bytes. Parsers
    /// (and `OSPlatform`) use it instead of Foundation's `range(of:)`, which bridges to NSString and ran at a
    /// tenth of the speed in profiles.
    ///
    /// Unsafe inside: raw pointer arithmetic over the string's bytes, bounded by `last` (asserted
    /// in debug builds).
    package func byteRange(of needle: StaticString) -> Range<Index>? {
        let found: Int? = utf8.withContiguousStorageIfAvailable { haystack -> Int? in
            let count = needle.utf8CodeUnitCount
            guard let base = haystack.baseAddress, count > 0, count <= haystack.count else { return nil }
            let first = Int32(needle.utf8Start.pointee)
            var offset = 0
            let last = haystack.count - count
            while offset <= last {
                // memchr finds candidates for the first byte; memcmp confirms the rest.
                assert(offset >= 0 && offset <= last, "the search ran outside the haystack")
                guard let hit = memchr(base + offset, first, last - offset + 1) else { return nil }
                let position = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                assert(position >= offset && position <= last, "memchr answered outside the range it was given")
                if memcmp(base + position, needle.utf8Start, count) == 0 { return position }
                offset = position + 1
            }
            return nil
        } ?? nil
        guard let found else { return nil }
        let lower = utf8.index(startIndex, offsetBy: found)
        return lower..<utf8.index(lower, offsetBy: needle.utf8CodeUnitCount)
    }

    /// True when `needle` occurs (a byte search, see `byteRange(of:)`).
    package func hasBytes(_ needle: StaticString) -> Bool { byteRange(of: needle) != nil }
}

extension UnsafeBufferPointer<UInt8> {
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
