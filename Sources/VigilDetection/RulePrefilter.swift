import VigilModel

/// A cheap necessary condition per rule, so most rules are never evaluated on most events.
///
/// From each rule's match tree we derive a set of (field, literal) pairs of which at least
/// one must occur (case-insensitively, as a substring) in the event for the rule to possibly
/// match: a field test needs one of its literals; an AND needs what its most selective child
/// needs; an OR needs the union of its children. A regex contributes the literals one of
/// which every match must contain (`RegexLiterals`). A rule with a negation at the top, a
/// regex without such a literal, a number or CIDR comparison, or a one-character literal gets
/// no prefilter and is always evaluated. Per event, each field that any rule needs is scanned
/// once for all its literals at once (`ScanTable`).
final class RulePrefilter: @unchecked Sendable {
    /// The field name that stands for the raw record (keyword searches).
    static let rawField = FieldKey("\u{0}raw")

    /// Literals wanted in one field.
    struct FieldIndex {
        let field: FieldKey
        var literals: [[UInt8]] = []
        /// Rule indices per literal.
        var owners: [[Int32]] = []
        /// Every rule that needs this field (a non-ASCII value marks them all).
        var rules: [Int32] = []
    }

    /// Per rule: true when it has a prefilter and may be skipped unless marked.
    let filtered: [Bool]
    let indexes: [FieldIndex]
    /// FieldKey.rawValue → position in `indexes`, or -1.
    private let slotByKey: UnsafeMutableBufferPointer<Int32>
    /// One scan table per index. Everything the per-event scan reads lives in memory of its
    /// own and is read through plain pointers: no copies, no reference counting, which two
    /// threads sharing one rule set would otherwise contend on. Immutable after `init`.
    private let tables: UnsafeMutableBufferPointer<ScanTable>
    /// The raw record's index position, or -1.
    let rawSlot: Int

    init(rules: [CompiledRule]) {
        var byField: [FieldKey: Int] = [:]
        var indexes: [FieldIndex] = []
        var filtered = [Bool](repeating: false, count: rules.count)
        for (ruleIndex, rule) in rules.enumerated() {
            guard let requirement = Self.requirement(rule.node), !requirement.isEmpty else { continue }
            filtered[ruleIndex] = true
            for (field, literal) in requirement {
                let slot: Int
                if let existing = byField[field] { slot = existing } else {
                    slot = indexes.count
                    byField[field] = slot
                    indexes.append(FieldIndex(field: field))
                }
                if let existing = indexes[slot].literals.firstIndex(of: literal) {
                    if !indexes[slot].owners[existing].contains(Int32(ruleIndex)) { indexes[slot].owners[existing].append(Int32(ruleIndex)) }
                } else {
                    indexes[slot].literals.append(literal)
                    indexes[slot].owners.append([Int32(ruleIndex)])
                }
                if indexes[slot].rules.last != Int32(ruleIndex) { indexes[slot].rules.append(Int32(ruleIndex)) }
            }
        }
        let maxKey = byField.keys.map { Int($0.rawValue) }.max() ?? -1
        var slotByKey = [Int32](repeating: -1, count: maxKey + 1)
        for (key, slot) in byField { slotByKey[Int(key.rawValue)] = Int32(slot) }
        self.filtered = filtered
        self.indexes = indexes
        self.slotByKey = .copy(slotByKey)
        self.tables = .copy(indexes.map { ScanTable(literals: $0.literals, owners: $0.owners) })
        self.rawSlot = byField[Self.rawField] ?? -1
    }

    deinit {
        for table in tables { table.deallocate() }
        tables.deallocate()
        slotByKey.deallocate()
    }

    /// At least one of these (field, folded literal) pairs must occur for `node` to match;
    /// nil when no such set can be derived.
    static func requirement(_ node: MatchNode) -> [(FieldKey, [UInt8])]? {
        switch node {
        case .field(let test):
            guard test.presence == .values else { return nil }
            return literals(test.tests).map { $0.map { (test.key, $0) } }
        case .keywords(let tests, _):
            return literals(tests).map { $0.map { (rawField, $0) } }
        case .and(let children):
            let options = children.compactMap(requirement).filter { !$0.isEmpty }
            return options.max { score($0) < score($1) }
        case .or(let children), .atLeast(_, let children):
            var union: [(FieldKey, [UInt8])] = []
            for child in children {
                guard let needed = requirement(child) else { return nil }
                union += needed
            }
            return union
        case .not, .constant:
            return nil
        }
    }

    /// Selectivity of a requirement: longer shortest literal first, then fewer literals.
    private static func score(_ requirement: [(FieldKey, [UInt8])]) -> Double {
        let shortest = requirement.map(\.1.count).min() ?? 0
        return Double(shortest) - Double(requirement.count) / 1000
    }

    /// The folded literals one of which any value matching `tests` must contain; nil if any
    /// test can match without a literal of at least two bytes.
    private static func literals(_ tests: [ValueTest]) -> [[UInt8]]? {
        var result: [[UInt8]] = []
        for test in tests {
            switch test {
            case .text(let pattern, let negated):
                guard !negated else { return nil }
                let literal = pattern.kind == .glob ? pattern.requiredLiteral : pattern.needle
                guard literal.count >= 2, pattern.kind != .anything else { return nil }
                result.append(literal.map(TextPattern.lower))
            case .anyText(let patterns):
                guard let needles = patterns.literalNeedles, needles.allSatisfy({ $0.count >= 2 }) else { return nil }
                result += needles.map { $0.map(TextPattern.lower) }
            case .regex(let expression):
                guard !expression.requiredLiterals.isEmpty else { return nil }
                result += expression.requiredLiterals
            default:
                return nil
            }
        }
        return result
    }

    /// Sets `marks[rule]` for every rule whose prefilter literal occurs in `event`'s fields
    /// that `needed` names (by index position).
    func mark(_ event: Event, needed: UnsafeBufferPointer<Bool>, into marks: UnsafeMutablePointer<Bool>) {
        event.fields.withUnsafeBufferPointer { fields in
            for index in fields.indices {
                let raw = Int(fields[index].key.rawValue)
                guard raw < slotByKey.count else { continue }
                let slot = Int(slotByKey[raw])
                guard slot >= 0, needed[slot] else { continue }
                scan(fields[index].value, slot: slot, into: marks)
            }
        }
        if rawSlot >= 0, needed[rawSlot] { scan(event.raw, slot: rawSlot, into: marks) }
    }

    private func scan(_ value: String, slot: Int, into marks: UnsafeMutablePointer<Bool>) {
        let scanned: Void? = value.utf8.withContiguousStorageIfAvailable { bytes in
            guard TextPattern.isASCII(bytes) else {
                // Unicode lowercasing could change the match; let every such rule be evaluated.
                for rule in indexes[slot].rules { marks[Int(rule)] = true }
                return
            }
            tables.baseAddress!.advanced(by: slot).pointee.scan(bytes, into: marks)
        }
        if scanned == nil { scan(String(decoding: Array(value.utf8), as: UTF8.self), slot: slot, into: marks) }
    }
}

/// Literal ids under 16-bit keys: a bit per key that has any (8 KiB, so it stays in cache
/// and most lookups stop there), then the ids of each group of 16 keys, with their keys.
struct LiteralBuckets {
    let bits: UnsafeMutableBufferPointer<UInt64>
    let offsets: UnsafeMutableBufferPointer<Int32>
    let ids: UnsafeMutableBufferPointer<Int32>
    let keys: UnsafeMutableBufferPointer<UInt16>
    let isEmpty: Bool

    init(_ keyed: [(id: Int32, key: Int)]) {
        var groups = [[(id: Int32, key: Int)]](repeating: [], count: 4_096)
        var bits = [UInt64](repeating: 0, count: 1_024)
        for entry in keyed {
            groups[entry.key >> 4].append(entry)
            bits[entry.key >> 6] |= 1 << UInt64(entry.key & 63)
        }
        var offsets = [Int32](repeating: 0, count: 4_097)
        var ids: [Int32] = [], keys: [UInt16] = []
        for group in 0..<4_096 {
            offsets[group] = Int32(ids.count)
            ids += groups[group].map(\.id)
            keys += groups[group].map { UInt16($0.key) }
        }
        offsets[4_096] = Int32(ids.count)
        self.bits = .copy(bits)
        self.offsets = .copy(offsets)
        self.ids = .copy(ids)
        self.keys = .copy(keys)
        isEmpty = keyed.isEmpty
    }

    @inline(__always)
    func contains(_ key: Int) -> Bool { bits[key >> 6] & (1 << UInt64(key & 63)) != 0 }

    func deallocate() {
        bits.deallocate()
        offsets.deallocate()
        ids.deallocate()
        keys.deallocate()
    }
}

/// One field's literals, arranged for a scan that looks at each byte once and rarely more.
///
/// Each literal of three bytes or more is filed under one of its trigrams, its anchor. The
/// anchors are chosen to spread literals over many keys and to avoid trigrams that log text
/// is full of (`/us`, `bin`, ` -`), so that few positions of a value hit an anchor and each
/// hit has few candidates. The scan rolls a hash of the last three (folded) bytes and tests
/// one bit per position; a hit compares the literals anchored there, each from its own start.
/// Two-byte literals are filed under their exact bigram the same way.
struct ScanTable {
    let anchors: LiteralBuckets
    /// Per literal: where in it its anchor trigram starts.
    let anchorOffsets: UnsafeMutableBufferPointer<Int32>
    let pairs: LiteralBuckets
    let literalBytes: UnsafeMutableBufferPointer<UInt8>
    let literalStarts: UnsafeMutableBufferPointer<Int32>
    let ownerList: UnsafeMutableBufferPointer<Int32>
    let ownerStarts: UnsafeMutableBufferPointer<Int32>

    /// `literals` are folded and at least two bytes long; `owners` are their rules.
    init(literals: [[UInt8]], owners: [[Int32]]) {
        var literalBytes: [UInt8] = [], literalStarts: [Int32] = [], ownerList: [Int32] = [], ownerStarts: [Int32] = []
        var anchored: [(id: Int32, key: Int)] = [], paired: [(id: Int32, key: Int)] = []
        var anchorOffsets = [Int32](repeating: 0, count: literals.count)
        var usage = [Int](repeating: 0, count: 65_536)
        // Short literals first: they have the fewest trigrams to choose from.
        for id in literals.indices.sorted(by: { literals[$0].count < literals[$1].count }) {
            let literal = literals[id]
            guard literal.count >= 3 else {
                paired.append((Int32(id), Int(literal[0]) << 8 | Int(literal[1])))
                continue
            }
            let best = (0...(literal.count - 3)).min { left, right in
                let (a, b) = (Self.anchorCost(literal, at: left, usage: usage), Self.anchorCost(literal, at: right, usage: usage))
                return a != b ? a < b : left > right
            }!
            let key = Self.trigramKey(literal[best], literal[best + 1], literal[best + 2])
            usage[key] += 1
            anchorOffsets[id] = Int32(best)
            anchored.append((Int32(id), key))
        }
        for (literal, literalOwners) in zip(literals, owners) {
            literalStarts.append(Int32(literalBytes.count))
            literalBytes += literal
            ownerStarts.append(Int32(ownerList.count))
            ownerList += literalOwners
        }
        literalStarts.append(Int32(literalBytes.count))
        ownerStarts.append(Int32(ownerList.count))
        anchors = LiteralBuckets(anchored)
        pairs = LiteralBuckets(paired)
        self.anchorOffsets = .copy(anchorOffsets)
        self.literalBytes = .copy(literalBytes)
        self.literalStarts = .copy(literalStarts)
        self.ownerList = .copy(ownerList)
        self.ownerStarts = .copy(ownerStarts)
    }

    /// Bytes that fill log text: separators, digits and the commonest letters.
    private static let commonBytes = Set(" /\\-._=:,\"'0123456789etaoinsrlcuhbd".utf8)

    /// Lower is better: how many literals already use the trigram's key, then how common its bytes are.
    private static func anchorCost(_ literal: [UInt8], at offset: Int, usage: [Int]) -> Int {
        let key = trigramKey(literal[offset], literal[offset + 1], literal[offset + 2])
        let common = literal[offset..<offset + 3].filter(commonBytes.contains).count
        return usage[key] * 4 + common
    }

    @inline(__always)
    static func trigramKey(_ first: UInt8, _ second: UInt8, _ third: UInt8) -> Int {
        hash(UInt32(first) << 16 | UInt32(second) << 8 | UInt32(third))
    }

    @inline(__always)
    static func hash(_ trigram: UInt32) -> Int { Int((trigram &* 0x9E37_79B1) >> 16) }

    /// Sets `marks[rule]` for the owners of every literal that occurs in `bytes` (ASCII, any case).
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, into marks: UnsafeMutablePointer<Bool>) {
        guard bytes.count >= 2, let base = bytes.baseAddress else { return }
        if !pairs.isEmpty { scanPairs(bytes, into: marks) }
        // The hot loop: one folded byte in, one hash, one bit test per position.
        let bits = anchors.bits.baseAddress!
        var rolling = UInt32(TextPattern.lower(base[0])) << 8 | UInt32(TextPattern.lower(base[1]))
        for index in 2..<bytes.count {
            rolling = (rolling << 8 | UInt32(TextPattern.lower(base[index]))) & 0xFF_FFFF
            let key = Self.hash(rolling)
            if bits[key >> 6] & (1 << UInt64(key & 63)) != 0 { candidates(in: anchors, key: key, at: index - 2, of: bytes, into: marks) }
        }
    }

    private func scanPairs(_ bytes: UnsafeBufferPointer<UInt8>, into marks: UnsafeMutablePointer<Bool>) {
        var pair = Int(TextPattern.lower(bytes[0]))
        for index in 1..<bytes.count {
            pair = (pair << 8 | Int(TextPattern.lower(bytes[index]))) & 0xFFFF
            if pairs.contains(pair) { candidates(in: pairs, key: pair, at: index - 1, of: bytes, into: marks) }
        }
    }

    /// Marks the owners of every literal filed under `key` whose anchor (or pair) starts at
    /// `position` and that occurs there whole. Kept out of the scan loops, which it would crowd.
    @inline(never)
    private func candidates(in buckets: LiteralBuckets, key: Int, at position: Int, of bytes: UnsafeBufferPointer<UInt8>, into marks: UnsafeMutablePointer<Bool>) {
        let group = key >> 4
        for slot in Int(buckets.offsets[group])..<Int(buckets.offsets[group + 1]) where Int(buckets.keys[slot]) == key {
            let literal = Int(buckets.ids[slot])
            let from = Int(literalStarts[literal]), to = Int(literalStarts[literal + 1])
            let start = position - (to - from >= 3 ? Int(anchorOffsets[literal]) : 0)
            guard start >= 0, bytes.count - start >= to - from else { continue }
            var cursor = start
            var equal = true
            for byteIndex in from..<to {
                if TextPattern.lower(bytes[cursor]) != literalBytes[byteIndex] { equal = false; break }
                cursor += 1
            }
            guard equal else { continue }
            for owner in Int(ownerStarts[literal])..<Int(ownerStarts[literal + 1]) { marks[Int(ownerList[owner])] = true }
        }
    }

    func deallocate() {
        anchors.deallocate()
        anchorOffsets.deallocate()
        pairs.deallocate()
        literalBytes.deallocate()
        literalStarts.deallocate()
        ownerList.deallocate()
        ownerStarts.deallocate()
    }
}
