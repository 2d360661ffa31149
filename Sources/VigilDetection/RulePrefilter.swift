import VigilModel

/// A cheap necessary condition per rule, so most rules are never evaluated on most events.
///
/// From each rule's match tree we derive a set of (field, literal) pairs of which at least
/// one must occur (case-insensitively, as a substring) in the event for the rule to possibly
/// match: a field test needs one of its literals; an AND needs what its most selective child
/// needs; an OR needs the union of its children. A rule whose tree is an AND gets two such
/// sets, from its two most selective children, and is evaluated only when both are met: the
/// most selective alone is often a record type (`type: EXECVE`) that most events carry. A
/// regex contributes the literals one of which every match must contain (`RegexLiterals`). A
/// rule with a negation at the top, a regex without such a literal, a number or CIDR
/// comparison, or a one-character literal gets no prefilter and is always evaluated. Per event, each field that any rule needs is scanned
/// once for all its literals at once (`ScanTable`).
final class RulePrefilter: @unchecked Sendable {
    // Safety: every stored property is written only in `init`; afterwards threads only read.
    /// The field name that stands for the raw record (keyword searches).
    static let rawField = FieldKey("\u{0}raw")

    /// Literals wanted in one field.
    struct FieldIndex {
        let field: FieldKey
        var literals: [[UInt8]] = []
        /// The marks each literal sets.
        var owners: [[Int32]] = []
        /// Every group that needs this field (a non-ASCII value marks them all).
        var groups: [Int32] = []
    }

    /// Marks are bits, one per requirement group of each rule: the mark of rule `r`'s group `g`
    /// (0 or 1) is bit `g * markStride + r`. Each group's run is `markStride` bits long (the rule
    /// count rounded up to whole 64-bit words), so a word of either run holds the same 64 rules.
    let markStride: Int
    /// The words that hold every mark.
    var markWords: Int { 2 * markStride / 64 }

    /// The rule whose group `mark` is.
    func rule(ofMark mark: Int32) -> Int32 { mark % Int32(markStride) }

    /// Per rule: how many requirement groups must be marked for it to be evaluated; 0 when it
    /// has no prefilter and is always evaluated.
    let groupCounts: [UInt8]
    /// Per rule: true when it has a prefilter and may be skipped unless marked.
    var filtered: [Bool] { groupCounts.map { $0 > 0 } }
    let indexes: [FieldIndex]
    /// FieldKey.rawValue → position in `indexes`, or -1.
    private let slotByKey: UnsafeMutableBufferPointer<Int32>
    /// Owns `slotByKey`, `tables` and every buffer of every table.
    private var arena = UnsafeBufferArena()
    /// One scan table per index. Everything the per-event scan reads lives in memory of its
    /// own and is read through plain pointers: no copies, no reference counting, which two
    /// threads sharing one rule set would otherwise contend on. Immutable after `init`.
    private let tables: UnsafeMutableBufferPointer<ScanTable>
    /// The raw record's index position, or -1.
    let rawSlot: Int

    init(rules: [CompiledRule]) {
        var byField: [FieldKey: Int] = [:]
        var indexes: [FieldIndex] = []
        var groupCounts = [UInt8](repeating: 0, count: rules.count)
        let markStride = (rules.count + 63) / 64 * 64
        self.markStride = markStride
        for (ruleIndex, rule) in rules.enumerated() {
            let groups = Self.requirements(rule.node)
            groupCounts[ruleIndex] = UInt8(groups.count)
            for (group, requirement) in groups.enumerated() {
                let owner = Int32(group * markStride + ruleIndex)
                for (field, literal) in requirement {
                    let slot: Int
                    if let existing = byField[field] { slot = existing } else {
                        slot = indexes.count
                        byField[field] = slot
                        indexes.append(FieldIndex(field: field))
                    }
                    if let existing = indexes[slot].literals.firstIndex(of: literal) {
                        if !indexes[slot].owners[existing].contains(owner) { indexes[slot].owners[existing].append(owner) }
                    } else {
                        indexes[slot].literals.append(literal)
                        indexes[slot].owners.append([owner])
                    }
                    if indexes[slot].groups.last != owner { indexes[slot].groups.append(owner) }
                }
            }
        }
        let maxKey = byField.keys.map { Int($0.rawValue) }.max() ?? -1
        var slotByKey = [Int32](repeating: -1, count: maxKey + 1)
        for (key, slot) in byField { slotByKey[Int(key.rawValue)] = Int32(slot) }
        self.groupCounts = groupCounts
        self.indexes = indexes
        self.slotByKey = arena.copy(slotByKey)
        var tables: [ScanTable] = []
        for index in indexes { tables.append(ScanTable(literals: index.literals, owners: index.owners, arena: &arena)) }
        self.tables = arena.copy(tables)
        self.rawSlot = byField[Self.rawField] ?? -1
    }

    /// Sets of (field, folded literal) pairs that must each have one pair occur for `node` to
    /// match: none when no set can be derived; two, from the most selective children of an AND
    /// (nested ANDs taken as one), when it has two such children; otherwise one. A second set
    /// is never the raw record's, whose scan costs far more than a field's.
    static func requirements(_ node: MatchNode) -> [[(FieldKey, [UInt8])]] {
        guard case .and = node else { return requirement(node).map { $0.isEmpty ? [] : [$0] } ?? [] }
        var conjuncts: [MatchNode] = []
        func flatten(_ node: MatchNode) {
            if case .and(let children) = node { children.forEach(flatten) } else { conjuncts.append(node) }
        }
        flatten(node)
        var options = conjuncts.compactMap(requirement).filter { !$0.isEmpty }
        options.sort { score($0) > score($1) }
        guard let first = options.first else { return [] }
        guard let second = options.dropFirst().first(where: { !$0.contains { $0.0 == rawField } }) else { return [first] }
        return [first, second]
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
            case .text(let pattern):
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

    /// Sets the mark of every requirement group with a literal that occurs in `event`'s fields
    /// that `needed` names (by index position). `marks` holds `markWords` words.
    func mark(_ event: Event, needed: UnsafeBufferPointer<Bool>, into marks: UnsafeMutablePointer<UInt64>) {
        event.fields.withUnsafeBufferPointer { fields in
            for index in fields.indices {
                let raw = Int(fields[index].key.rawValue)
                guard raw < slotByKey.count else { continue }
                let slot = Int(slotByKey[raw])
                guard slot >= 0, needed[slot] else { continue }
                scan(fields[index].value, slot: slot, into: marks)
            }
        }
        if rawSlot >= 0, needed[rawSlot] {
            scan(event.raw, slot: rawSlot, into: marks)
            // Keyword searches see a JSON record's decoded values too (see `MatchProgram`).
            if event.rawHasJSONEscapes {
                for field in event.fields { scan(field.value, slot: rawSlot, into: marks) }
            }
        }
    }

    private func scan(_ value: String, slot: Int, into marks: UnsafeMutablePointer<UInt64>) {
        let scanned: Void? = value.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.isASCII else {
                // Unicode lowercasing could change the match; let every such rule be evaluated.
                for group in indexes[slot].groups { setBit(Int(group), in: marks) }
                return
            }
            tables.baseAddress!.advanced(by: slot).pointee.scan(bytes, into: marks)
        }
        if scanned == nil { scan(String(decoding: Array(value.utf8), as: UTF8.self), slot: slot, into: marks) }
    }
}

/// Literal ids under 16-bit keys: a bit per key that has any (8 KiB, so it stays in cache
/// and most lookups stop there), then the entries of each group of 16 keys: literal id, key,
/// and where in the literal the keyed bytes start.
struct LiteralBuckets {
    struct Entry {
        var id: Int32
        var key: Int
        var offset: Int32 = 0
    }

    let bits: UnsafeMutableBufferPointer<UInt64>
    let groupStarts: UnsafeMutableBufferPointer<Int32>
    let ids: UnsafeMutableBufferPointer<Int32>
    let keys: UnsafeMutableBufferPointer<UInt16>
    let offsets: UnsafeMutableBufferPointer<Int32>
    let isEmpty: Bool

    /// Files `entries`; the tables are allocated in `arena`.
    init(_ entries: [Entry], arena: inout UnsafeBufferArena) {
        var groups = [[Entry]](repeating: [], count: 4_096)
        var bits = [UInt64](repeating: 0, count: 1_024)
        for entry in entries {
            groups[entry.key >> 4].append(entry)
            bits[entry.key >> 6] |= 1 << UInt64(entry.key & 63)
        }
        var groupStarts = [Int32](repeating: 0, count: 4_097)
        var sorted: [Entry] = []
        for group in 0..<4_096 {
            groupStarts[group] = Int32(sorted.count)
            sorted += groups[group]
        }
        groupStarts[4_096] = Int32(sorted.count)
        self.bits = arena.copy(bits)
        self.groupStarts = arena.copy(groupStarts)
        ids = arena.copy(sorted.map(\.id))
        keys = arena.copy(sorted.map { UInt16($0.key) })
        offsets = arena.copy(sorted.map(\.offset))
        isEmpty = entries.isEmpty
    }

    @inline(__always)
    func contains(_ key: Int) -> Bool { bits[key >> 6] & (1 << UInt64(key & 63)) != 0 }
}

/// One field's literals, arranged for a scan that looks at a few bytes per position and
/// skips positions where it can.
///
/// Each literal of three bytes or more is filed under `step` consecutive trigrams of its own,
/// its anchors, so a scan that looks at every `step`th position still meets one of them
/// wherever the literal occurs; `step` is as large as the shortest such literal allows, up
/// to 4. The anchors are chosen to spread literals over many keys and to avoid bytes that log
/// text is full of (`/us`, `bin`, ` -`), in the trigram and the byte after it, so few positions
/// hit an anchor and each hit has few candidates. Per position the scan folds four bytes at
/// once (`keyFold`), hashes three and tests one bit. A hit is checked against the fourth byte
/// too before any literal is compared: `followers` holds a bit per anchor and the byte that
/// follows it in its literal, or `endOfLiteral` when none does. Most hits on a trigram common
/// in logs (`sys` of `syscall=`) stop there. What passes compares the literals anchored there,
/// each from its own start. Two-byte literals are filed under their bigram and found position
/// by position.
struct ScanTable {
    let anchors: LiteralBuckets
    /// A bit per anchor with the byte that follows it in its literal (`hash` of the four), or
    /// with `endOfLiteral` when it ends its literal.
    let followers: UnsafeMutableBufferPointer<UInt64>
    let step: Int
    let pairs: LiteralBuckets
    let literalBytes: UnsafeMutableBufferPointer<UInt8>
    let literalStarts: UnsafeMutableBufferPointer<Int32>
    let ownerList: UnsafeMutableBufferPointer<Int32>
    let ownerStarts: UnsafeMutableBufferPointer<Int32>

    /// `literals` are folded and at least two bytes long; `owners` are the marks they set. The
    /// table's buffers are allocated in `arena`.
    init(literals: [[UInt8]], owners: [[Int32]], arena: inout UnsafeBufferArena) {
        var literalBytes: [UInt8] = [], literalStarts: [Int32] = [], ownerList: [Int32] = [], ownerStarts: [Int32] = []
        var anchored: [LiteralBuckets.Entry] = [], paired: [LiteralBuckets.Entry] = []
        var followers = [UInt64](repeating: 0, count: 1_024)
        let shortest = literals.map(\.count).filter { $0 >= 3 }.min() ?? 3
        let step = min(max(shortest - 2, 1), 4)
        var usage = [Int](repeating: 0, count: 65_536)
        // Short literals first: they have the fewest anchors to choose from.
        for id in literals.indices.sorted(by: { literals[$0].count < literals[$1].count }) {
            let literal = literals[id]
            guard literal.count >= 3 else {
                paired.append(.init(id: Int32(id), key: Int(Self.keyWord(literal[0..<2]))))
                continue
            }
            func key(at offset: Int) -> Int { Self.hash(Self.keyWord(literal[offset..<offset + 3])) }
            func cost(at offset: Int) -> Int {
                usage[key(at: offset)] * 4 + literal[offset..<min(offset + 4, literal.count)].filter(Self.commonBytes.contains).count
            }
            let first = (0...(literal.count - 2 - step)).min { left, right in
                let (a, b) = ((left..<left + step).map(cost).reduce(0, +), (right..<right + step).map(cost).reduce(0, +))
                return a != b ? a < b : left > right
            }!
            for offset in first..<first + step {
                usage[key(at: offset)] += 1
                anchored.append(.init(id: Int32(id), key: key(at: offset), offset: Int32(offset)))
                let follower = Self.hash(offset + 3 < literal.count ? Self.keyWord(literal[offset..<offset + 4])
                                         : Self.keyWord(literal[offset..<offset + 3]) | UInt32(Self.endOfLiteral) << 24)
                followers[follower >> 6] |= 1 << UInt64(follower & 63)
            }
        }
        for (literal, literalOwners) in zip(literals, owners) {
            literalStarts.append(Int32(literalBytes.count))
            literalBytes += literal
            ownerStarts.append(Int32(ownerList.count))
            ownerList += literalOwners
        }
        literalStarts.append(Int32(literalBytes.count))
        ownerStarts.append(Int32(ownerList.count))
        self.step = step
        anchors = LiteralBuckets(anchored, arena: &arena)
        self.followers = arena.copy(followers)
        pairs = LiteralBuckets(paired, arena: &arena)
        self.literalBytes = arena.copy(literalBytes)
        self.literalStarts = arena.copy(literalStarts)
        self.ownerList = arena.copy(ownerList)
        self.ownerStarts = arena.copy(ownerStarts)
    }

    /// What `followers` files an anchor under when no byte of its literal follows it: no byte
    /// of a scanned value (ASCII, with `keyFold` set) is equal to it.
    static let endOfLiteral: UInt8 = 0x80

    /// Bytes that fill log text: separators, digits and the commonest letters.
    private static let commonBytes = Set(" /\\-._=:,\"'0123456789etaoinsrlcuhbd".utf8)

    /// A 16-bit hash of three (or four) bytes packed first-lowest.
    @inline(__always)
    static func hash(_ trigram: UInt32) -> Int { Int((trigram &* 0x9E37_79B1) >> 16) }

    /// Whether bit `index` of the bit set `bits` is set.
    @inline(__always)
    static func bit(_ index: Int, of bits: UnsafeMutablePointer<UInt64>) -> Bool { bits[index >> 6] >> UInt64(index & 63) & 1 != 0 }

    /// Set in every byte a key is made of, in text and literals alike: it lowercases ASCII
    /// letters in one instruction, and merges a few other pairs of bytes (`@` and `` ` ``, `_`
    /// and DEL, control bytes and punctuation). Only keys are made of folded bytes, never a
    /// comparison, so a merged pair costs at most a comparison that fails.
    static let keyFold: UInt8 = 0x20
    /// `keyFold` in each byte of a four-byte word.
    static let fourKeyFolds: UInt32 = 0x2020_2020

    /// `bytes` (two to four) with `keyFold` set, packed first-lowest.
    static func keyWord(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt32($1 | keyFold) }
    }

    /// Sets the bit of each owner of every literal that occurs in `bytes` (ASCII, any case) in
    /// `marks`, which holds a bit for every owner.
    @inline(__always)
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, into marks: UnsafeMutablePointer<UInt64>) {
        guard bytes.count >= 2, let base = bytes.baseAddress else { return }
        if !pairs.isEmpty { scanPairs(bytes, into: marks) }
        guard bytes.count >= 3, !anchors.isEmpty else { return }
        // The hot loop: one load, fold, hash and bit test per position looked at; a second hash
        // and test, of all four bytes, only where the first hit.
        let bits = anchors.bits.baseAddress!, followers = followers.baseAddress!
        let count = bytes.count
        // Positions stay within `0...count` and `step` is at most 4: the arithmetic cannot overflow.
        let lastFourByteLoad = count &- 4
        var position = 0
        while position <= lastFourByteLoad {
            assert(position >= 0, "the scan position went negative")
            let word = UInt32(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt32.self)) | Self.fourKeyFolds
            let key = Self.hash(word & 0xFF_FFFF)
            if Self.bit(key, of: bits),
               Self.bit(Self.hash(word), of: followers) || Self.bit(Self.hash(word & 0xFF_FFFF | UInt32(Self.endOfLiteral) << 24), of: followers) {
                candidates(in: anchors, key: key, at: position, of: bytes, into: marks)
            }
            position &+= step
        }
        // The last trigram, when the four-byte loads stopped just short of it.
        if position + 3 == count {
            let key = Self.hash(UInt32(base[position] | Self.keyFold) | UInt32(base[position + 1] | Self.keyFold) << 8
                                | UInt32(base[position + 2] | Self.keyFold) << 16)
            if anchors.contains(key) { candidates(in: anchors, key: key, at: position, of: bytes, into: marks) }
        }
    }

    private func scanPairs(_ bytes: UnsafeBufferPointer<UInt8>, into marks: UnsafeMutablePointer<UInt64>) {
        var pair = Int(bytes[0] | Self.keyFold) << 8
        for index in 1..<bytes.count {
            pair = pair >> 8 | Int(bytes[index] | Self.keyFold) << 8
            if pairs.contains(pair) { candidates(in: pairs, key: pair, at: index - 1, of: bytes, into: marks) }
        }
    }

    /// Marks the owners of every literal filed under `key` whose keyed bytes start at
    /// `position` and that occurs there whole. Kept out of the scan loops, which it would crowd.
    @inline(never)
    private func candidates(in buckets: LiteralBuckets, key: Int, at position: Int, of bytes: UnsafeBufferPointer<UInt8>, into marks: UnsafeMutablePointer<UInt64>) {
        let group = key >> 4
        assert(group + 1 < buckets.groupStarts.count, "key \(key) is outside the 16-bit key space")
        for slot in Int(buckets.groupStarts[group])..<Int(buckets.groupStarts[group + 1]) where Int(buckets.keys[slot]) == key {
            let literal = Int(buckets.ids[slot])
            let from = Int(literalStarts[literal]), to = Int(literalStarts[literal + 1])
            let start = position - Int(buckets.offsets[slot])
            guard start >= 0, bytes.count - start >= to - from else { continue }
            var cursor = start
            var equal = true
            for byteIndex in from..<to {
                if TextPattern.lower(bytes[cursor]) != literalBytes[byteIndex] { equal = false; break }
                cursor += 1
            }
            guard equal else { continue }
            for owner in Int(ownerStarts[literal])..<Int(ownerStarts[literal + 1]) { setBit(Int(ownerList[owner]), in: marks) }
        }
    }
}

/// Sets bit `index` of the bit set `bits` (bit `i` is bit `i % 64` of word `i / 64`).
@inline(__always)
func setBit(_ index: Int, in bits: UnsafeMutablePointer<UInt64>) {
    bits[index >> 6] |= 1 << UInt64(index & 63)
}
