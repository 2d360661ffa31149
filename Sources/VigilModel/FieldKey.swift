import Foundation

/// An interned field name. Parsers and the rule compiler resolve names to keys once, so
/// matching compares small integers instead of hashing strings per event.
public struct FieldKey: Hashable, Sendable, Comparable {
    public let rawValue: UInt32

    /// Interns `name` in the process-wide table (thread-safe).
    public init(_ name: String) { self = FieldNames.shared.key(for: name) }

    init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The field name this key stands for.
    public var name: String { FieldNames.shared.name(of: self) }

    public static func < (lhs: FieldKey, rhs: FieldKey) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The process-wide table of interned field names.
///
/// Guarded by an `NSLock` (a pthread mutex) rather than `Synchronization.Mutex`: on Linux the
/// latter waits on futexes that ThreadSanitizer does not see, so every first use of a name on
/// a second thread was reported as a race, hiding real ones (`scripts/sanitize.sh thread`).
public final class FieldNames: @unchecked Sendable {
    public static let shared = FieldNames()

    private let lock = NSLock()
    /// Read and written only under `lock`.
    private var keys: [String: FieldKey] = [:]
    /// Read and written only under `lock`.
    private var names: [String] = []

    /// Returns the key for `name`, interning it on first use.
    public func key(for name: String) -> FieldKey {
        lock.withLock {
            if let key = keys[name] { return key }
            let key = FieldKey(rawValue: UInt32(names.count))
            names.append(name)
            keys[name] = key
            return key
        }
    }

    /// The name interned as `key`.
    public func name(of key: FieldKey) -> String {
        lock.withLock { names[Int(key.rawValue)] }
    }
}

/// A per-thread cache in front of `FieldNames`, for parsers that meet the same names on
/// every record. Not `Sendable`: give each parser its own.
public struct FieldKeyCache {
    private var cache: [String: FieldKey] = [:]
    /// Keys by their names' UTF-8 bytes, for parsers that scan bytes: an open-addressed table
    /// (FNV-1a, linear probing, at most half full), so a lookup needs no String and no SipHash.
    private var slots: [ByteSlot?] = Array(repeating: nil, count: 64)
    private var filledSlots = 0
    /// FNV-1a is unseeded, so a hostile log can hold names crafted to share a slot. A name not
    /// found within this many probes goes to the String table, whose hashing is seeded: such
    /// names cost a SipHash each, never a walk along a long run of slots.
    private static let maximumProbes = 8
    /// Names past this many go to the String table only, so the byte table stays small however
    /// many distinct names a log holds.
    private static let maximumByteSlots = 4_096

    /// The bytes of every name in the byte table, one after another.
    private var nameBytes: [UInt8] = []

    /// A name's place in `nameBytes`: no array of its own, so reading a slot takes no
    /// reference count and comparing it is one `memcmp`.
    private struct ByteSlot {
        let hash: UInt64
        let nameStart: Int
        let nameCount: Int
        let key: FieldKey
    }

    public init() {}

    /// The key for `name`, taking the global lock only the first time this cache sees it.
    public mutating func key(for name: String) -> FieldKey {
        if let key = cache[name] { return key }
        let key = FieldKey(name)
        cache[name] = key
        return key
    }

    /// The key for the name whose UTF-8 bytes are `name` (invalid UTF-8 is repaired, as
    /// `String(decoding:as:)` repairs it).
    public mutating func key(forUTF8 name: UnsafeBufferPointer<UInt8>) -> FieldKey {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        for _ in 0..<Self.maximumProbes {
            guard let slot = slots[index] else {
                let key = self.key(for: String(decoding: name, as: UTF8.self))
                if filledSlots < Self.maximumByteSlots {
                    slots[index] = ByteSlot(hash: hash, nameStart: nameBytes.count, nameCount: name.count, key: key)
                    nameBytes.append(contentsOf: name)
                    filledSlots += 1
                    if filledSlots * 2 > slots.count { growByteSlots() }
                }
                return key
            }
            if slot.hash == hash, slot.nameCount == name.count, storedName(of: slot, equals: name) { return slot.key }
            index = (index + 1) & mask
        }
        return key(for: String(decoding: name, as: UTF8.self))
    }

    private func storedName(of slot: ByteSlot, equals name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let bytes = name.baseAddress, slot.nameCount > 0 else { return slot.nameCount == name.count }
        return nameBytes.withUnsafeBufferPointer { stored in
            assert(slot.nameStart + slot.nameCount <= stored.count, "a byte slot points past the stored names")
            return memcmp(stored.baseAddress! + slot.nameStart, bytes, slot.nameCount) == 0
        }
    }

    private mutating func growByteSlots() {
        let old = slots
        slots = Array(repeating: nil, count: old.count * 2)
        let mask = slots.count - 1
        for case let slot? in old {
            var index = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[index] != nil { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}
