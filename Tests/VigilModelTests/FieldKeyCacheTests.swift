import Testing
import VigilModel

/// `FieldKeyCache.key(forUTF8:)` is the byte-keyed path the auditd scanner interns names through;
/// it must give the process-wide key for every name, through its table's growth and collisions.
@Suite struct FieldKeyCacheTests {
    @Test func givesTheInternedKeyForEveryName() {
        var cache = FieldKeyCache()
        let names = (0..<2_000).map { "field_\($0)" } + ["", "a", "a0", "é", "😀"]
        for round in 0..<2 {
            for name in names {
                let key = Array(name.utf8).withUnsafeBufferPointer { cache.key(forUTF8: $0) }
                #expect(key == FieldKey(name), "round \(round): \(name)")
            }
        }
    }

    @Test func repairsInvalidUTF8AsStringDecodingDoes() {
        var cache = FieldKeyCache()
        let bytes: [UInt8] = [0x6B, 0xFF, 0x65, 0x79]
        let key = bytes.withUnsafeBufferPointer { cache.key(forUTF8: $0) }
        #expect(key == FieldKey(String(decoding: bytes, as: UTF8.self)))
        #expect(key.name == "k\u{FFFD}ey")
    }

    /// Names crafted to share one slot of the byte table (FNV-1a is unseeded, so a hostile log
    /// can hold them) still get their own keys: past a few probes they go to the seeded String
    /// table instead of walking a long run of slots.
    @Test func namesCraftedToShareASlotStillGetTheirOwnKeys() {
        func fnv1a(_ name: String) -> UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            return hash
        }
        // Forty names whose hashes agree in their low 12 bits: one slot while the table is
        // small, and one run of slots after it grows.
        var colliding: [String] = []
        var candidate = 0
        while colliding.count < 40 {
            let name = "k\(candidate)"
            if fnv1a(name) & 0xFFF == fnv1a("k0") & 0xFFF { colliding.append(name) }
            candidate += 1
        }
        var cache = FieldKeyCache()
        for round in 0..<2 {
            for name in colliding {
                let key = Array(name.utf8).withUnsafeBufferPointer { cache.key(forUTF8: $0) }
                #expect(key == FieldKey(name), "round \(round): \(name)")
            }
        }
    }
}
