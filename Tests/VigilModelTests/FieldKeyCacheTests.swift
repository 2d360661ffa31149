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
}
