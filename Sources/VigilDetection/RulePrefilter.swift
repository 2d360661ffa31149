import VigilModel

/// A cheap necessary condition per rule, so most rules are never evaluated on most events.
///
/// From each rule's match tree we derive a set of (field, literal) pairs of which at least
/// one must occur (case-insensitively, as a substring) in the event for the rule to possibly
/// match: a field test needs one of its literals; an AND needs what its most selective child
/// needs; an OR needs the union of its children. A regex contributes the literals one of
/// which every match must contain (`RegexLiterals`). A rule with a negation at the top, a regex without such a
/// literal, a number or CIDR comparison, or a one-character literal gets no prefilter and is
/// always evaluated. Per event, each field that any rule needs is scanned once for all literals at
/// once, through tables keyed by each literal's first two or three (folded) bytes.
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

/// Literal ids bucketed by a 12-bit key: a bit per key that has any, and each key's run of ids.
struct LiteralBuckets {
    static let keyCount = 4_096
    let bits: UnsafeMutableBufferPointer<UInt64>
    let offsets: UnsafeMutableBufferPointer<Int32>
    let ids: UnsafeMutableBufferPointer<Int32>

    init(_ keyed: [(id: Int32, key: Int)]) {
        var buckets = [[Int32]](repeating: [], count: Self.keyCount)
        for (id, key) in keyed { buckets[key].append(id) }
        var bits = [UInt64](repeating: 0, count: Self.keyCount / 64)
        var offsets = [Int32](repeating: 0, count: Self.keyCount + 1)
        var ids: [Int32] = []
        for key in 0..<Self.keyCount {
            offsets[key] = Int32(ids.count)
            ids += buckets[key]
            if !buckets[key].isEmpty { bits[key >> 6] |= 1 << UInt64(key & 63) }
        }
        offsets[Self.keyCount] = Int32(ids.count)
        self.bits = .copy(bits)
        self.offsets = .copy(offsets)
        self.ids = .copy(ids)
    }

    @inline(__always)
    func contains(_ key: Int) -> Bool { bits[key >> 6] & (1 << UInt64(key & 63)) != 0 }

    func deallocate() {
        bits.deallocate()
        offsets.deallocate()
        ids.deallocate()
    }
}

/// One field's literals, arranged for a scan that looks at each byte once.
///
/// A bitset over folded bigrams (8 KiB, so it stays in cache) holds the first two bytes of
/// every literal; most positions of most values stop at that one test. Where it passes,
/// two-byte literals are looked up by their bigram and longer ones by a hash of their first
/// three bytes, and only those candidates are compared.
struct ScanTable {
    let gate: UnsafeMutableBufferPointer<UInt64>
    let pairs: LiteralBuckets
    let triples: LiteralBuckets
    let literalBytes: UnsafeMutableBufferPointer<UInt8>
    let literalStarts: UnsafeMutableBufferPointer<Int32>
    let ownerList: UnsafeMutableBufferPointer<Int32>
    let ownerStarts: UnsafeMutableBufferPointer<Int32>

    /// `literals` are folded and at least two bytes long; `owners` are their rules.
    init(literals: [[UInt8]], owners: [[Int32]]) {
        var literalBytes: [UInt8] = [], literalStarts: [Int32] = [], ownerList: [Int32] = [], ownerStarts: [Int32] = []
        var gate = [UInt64](repeating: 0, count: 1_024)
        for (literal, literalOwners) in zip(literals, owners) {
            literalStarts.append(Int32(literalBytes.count))
            literalBytes += literal
            ownerStarts.append(Int32(ownerList.count))
            ownerList += literalOwners
            let pair = Int(literal[0]) << 8 | Int(literal[1])
            gate[pair >> 6] |= 1 << UInt64(pair & 63)
        }
        literalStarts.append(Int32(literalBytes.count))
        ownerStarts.append(Int32(ownerList.count))
        let ids = literals.indices
        self.gate = .copy(gate)
        pairs = LiteralBuckets(ids.filter { literals[$0].count == 2 }.map { (Int32($0), Self.pairKey(literals[$0][0], literals[$0][1])) })
        triples = LiteralBuckets(ids.filter { literals[$0].count > 2 }.map { (Int32($0), Self.tripleKey(literals[$0][0], literals[$0][1], literals[$0][2])) })
        self.literalBytes = .copy(literalBytes)
        self.literalStarts = .copy(literalStarts)
        self.ownerList = .copy(ownerList)
        self.ownerStarts = .copy(ownerStarts)
    }

    @inline(__always)
    static func pairKey(_ first: UInt8, _ second: UInt8) -> Int {
        Int(((UInt32(first) << 8 | UInt32(second)) &* 0x9E37_79B1) >> 20)
    }

    @inline(__always)
    static func tripleKey(_ first: UInt8, _ second: UInt8, _ third: UInt8) -> Int {
        Int(((UInt32(first) << 16 | UInt32(second) << 8 | UInt32(third)) &* 0x9E37_79B1) >> 20)
    }

    /// Sets `marks[rule]` for the owners of every literal that occurs in `bytes` (ASCII, any case).
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, into marks: UnsafeMutablePointer<Bool>) {
        guard bytes.count >= 2 else { return }
        let gate = self.gate.baseAddress!
        var first = TextPattern.lower(bytes[0])
        for position in 0..<bytes.count - 1 {
            let second = TextPattern.lower(bytes[position + 1])
            let pair = Int(first) << 8 | Int(second)
            if gate[pair >> 6] & (1 << UInt64(pair & 63)) != 0 {
                let pairKey = Self.pairKey(first, second)
                if pairs.contains(pairKey) { candidates(in: pairs, key: pairKey, at: position, of: bytes, into: marks) }
                if position + 2 < bytes.count {
                    let tripleKey = Self.tripleKey(first, second, TextPattern.lower(bytes[position + 2]))
                    if triples.contains(tripleKey) { candidates(in: triples, key: tripleKey, at: position, of: bytes, into: marks) }
                }
            }
            first = second
        }
    }

    /// Marks the owners of every literal under `key` in `buckets` that occurs at `position`.
    private func candidates(in buckets: LiteralBuckets, key: Int, at position: Int, of bytes: UnsafeBufferPointer<UInt8>, into marks: UnsafeMutablePointer<Bool>) {
        for slot in Int(buckets.offsets[key])..<Int(buckets.offsets[key + 1]) {
            let literal = Int(buckets.ids[slot])
            let from = Int(literalStarts[literal]), to = Int(literalStarts[literal + 1])
            guard bytes.count - position >= to - from else { continue }
            var cursor = position
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
        gate.deallocate()
        pairs.deallocate()
        triples.deallocate()
        literalBytes.deallocate()
        literalStarts.deallocate()
        ownerList.deallocate()
        ownerStarts.deallocate()
    }
}
