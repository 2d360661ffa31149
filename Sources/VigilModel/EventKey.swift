import Crypto

/// The identity of an event: SHA-256 over its format, category, time, raw text, machine (host
/// name, compared case-insensitively as machines are) and integration.
///
/// Re-importing the same record for the same machine through the same integration yields the
/// same key, which the store uses to skip duplicates; the same record from another machine or
/// integration is another event. (A record with no time of its own is stamped with the import
/// time, so its re-import is not recognised.)
///
/// The store files an event under a 63-bit *storage key* (`storageKey(probe:)`): the second of
/// its time in the high 32 bits, so that an import appends to the key index instead of writing
/// all over it, and 31 bits drawn from the digest below. Two different events of one second may
/// draw the same 31 bits; the store then compares the stored event in full and tries the
/// event's next storage key, whose bits come from another draw. Each draw is a function of the
/// whole digest, so a sender who wants one of its events to take many tries must find a fresh
/// 31-bit SHA-256 collision for each.
public struct EventKey: Sendable, Hashable {
    private let digest: SIMD4<UInt64>
    private let second: UInt64

    /// How many storage keys the store tries for one event before it refuses the event.
    public static let maximumProbes = 16

    public init(_ event: Event) {
        self.init(sourceFormat: event.sourceFormat, category: event.logSource.category, time: event.time,
                  raw: event.raw, hostname: event.machine.hostname, integration: event.integration)
    }

    /// The key from an event's stored columns (the migrations that rekey stored events use it).
    public init(sourceFormat: String, category: String?, time: Timestamp, raw: String, hostname: String, integration: String) {
        // Hashed: format, 0, category, 0, time (8 bytes, little-endian), raw, 0, host name
        // lowercased, 0, integration, gathered into one buffer (on the stack when it is small)
        // so that a key costs one update of the hasher: each update is a call through
        // swift-crypto's wrapper, and those calls cost more than the copy.
        var hasher = SHA256()
        let category = category ?? ""
        // An ASCII host name (the usual) is lowercased byte by byte, without allocating.
        let isASCII = hostname.utf8.allSatisfy { $0 < 0x80 }
        let folded = isASCII ? hostname : hostname.lowercased()
        let length = sourceFormat.utf8.count + category.utf8.count + 10 + raw.utf8.count + folded.utf8.count + integration.utf8.count + 2
        var raw = raw
        raw.withUTF8 { rawBytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { buffer in
                var bytes = UnsafeByteWriter(buffer)
                bytes.append(utf8: sourceFormat)
                bytes.append(0)
                bytes.append(utf8: category)
                bytes.append(0)
                withUnsafeBytes(of: time.microseconds.littleEndian) { bytes.append($0.assumingMemoryBound(to: UInt8.self)) }
                bytes.append(rawBytes)
                bytes.append(0)
                if isASCII {
                    for byte in hostname.utf8 { bytes.append(byte &- 65 < 26 ? byte | 0x20 : byte) }
                } else {
                    bytes.append(utf8: folded)
                }
                bytes.append(0)
                bytes.append(utf8: integration)
                assert(bytes.count == length, "EventKey: the bytes hashed are not the bytes counted")
                hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer))
            }
        }
        digest = hasher.finalize().withUnsafeBytes { bytes in
            var words = SIMD4<UInt64>()
            for word in 0..<4 {
                var value: UInt64 = 0
                for index in word * 8..<word * 8 + 8 { value = value << 8 | UInt64(bytes[index]) }
                words[word] = value
            }
            return words
        }
        // Times before 1970 share the first second, times after 2106 the last: only the index's locality suffers.
        second = time.microseconds < 0 ? 0 : min(UInt64(time.microseconds / 1_000_000), UInt64(UInt32.max))
    }

    /// The first 63 bits of the digest: the event's identity where nothing is stored (a hunt's
    /// correlation windows), and the stored key of schema versions 9 to 19.
    public var identity: Int64 { Int64(bitPattern: digest[0] >> 1) }

    /// The storage key of try `probe` (0 first, below `maximumProbes`): the time's second, then
    /// 31 bits drawn from the digest.
    public func storageKey(probe: Int) -> Int64 {
        precondition(probe >= 0 && probe < Self.maximumProbes)
        // SplitMix64's finalizer over one digest word per try, salted by the round: different
        // digests draw independently on every try.
        var mixed = digest[probe % 4] &+ UInt64(probe / 4 + 1) &* 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        return Int64(bitPattern: second << 31 | mixed >> 33)
    }
}
