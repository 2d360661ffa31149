import Crypto
import VigilModel

/// The content-derived identity of an event: the first 63 bits of SHA-256 over its format,
/// category, time and raw text. Re-importing the same record yields the same key, which the
/// store uses as the primary key to skip duplicates. (A record with no time of its own is
/// stamped with the import time, so its re-import is not recognised.)
public enum EventKey {
    public static func compute(_ event: Event) -> Int64 {
        var hasher = SHA256()
        hasher.update(data: Array(event.sourceFormat.utf8))
        hasher.update(data: [0])
        hasher.update(data: Array(event.logSource.category?.utf8 ?? "".utf8))
        hasher.update(data: [0])
        withUnsafeBytes(of: event.time.microseconds.littleEndian) { hasher.update(bufferPointer: $0) }
        var raw = event.raw
        raw.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        let digest = hasher.finalize()
        return digest.withUnsafeBytes { bytes in
            var value: UInt64 = 0
            for index in 0..<8 { value = value << 8 | UInt64(bytes[index]) }
            return Int64(bitPattern: value >> 1)
        }
    }
}
