import Crypto

/// The identity of an event: the first 63 bits of SHA-256 over its format, category, time,
/// raw text, machine (host name, compared case-insensitively as machines are) and integration.
///
/// Re-importing the same record for the same machine through the same integration yields the
/// same key, which the store uses to skip duplicates; the same record from another machine or
/// integration is another event. (A record with no time of its own is stamped with the import
/// time, so its re-import is not recognised.)
public enum EventKey {
    public static func compute(_ event: Event) -> Int64 {
        compute(sourceFormat: event.sourceFormat, category: event.logSource.category, time: event.time,
                raw: event.raw, hostname: event.machine.hostname, integration: event.integration)
    }

    /// The key from an event's stored columns; the schema migration that introduced machine and
    /// integration into the key recomputes every stored event's key with it.
    public static func compute(sourceFormat: String, category: String?, time: Timestamp, raw: String,
                               hostname: String, integration: String) -> Int64 {
        var hasher = SHA256()
        hasher.update(data: Array(sourceFormat.utf8))
        hasher.update(data: [0])
        hasher.update(data: Array(category?.utf8 ?? "".utf8))
        hasher.update(data: [0])
        withUnsafeBytes(of: time.microseconds.littleEndian) { hasher.update(bufferPointer: $0) }
        var raw = raw
        raw.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        hasher.update(data: [0])
        updateCaseFolded(&hasher, hostname)
        hasher.update(data: [0])
        hasher.update(data: Array(integration.utf8))
        let digest = hasher.finalize()
        return digest.withUnsafeBytes { bytes in
            var value: UInt64 = 0
            for index in 0..<8 { value = value << 8 | UInt64(bytes[index]) }
            return Int64(bitPattern: value >> 1)
        }
    }

    /// Hashes the host name lowercased, without allocating for the usual ASCII name.
    private static func updateCaseFolded(_ hasher: inout SHA256, _ hostname: String) {
        guard hostname.utf8.allSatisfy({ $0 < 0x80 }) else {
            hasher.update(data: Array(hostname.lowercased().utf8))
            return
        }
        var chunk: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &chunk) { buffer in
            var count = 0
            for byte in hostname.utf8 {
                buffer[count] = byte &- 65 < 26 ? byte | 0x20 : byte
                count += 1
                if count == buffer.count {
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer))
                    count = 0
                }
            }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }
}
