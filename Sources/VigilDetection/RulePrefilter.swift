import VigilModel

/// A cheap necessary condition per rule, so most rules are never evaluated on most events.
///
/// From each rule's match tree we derive a set of (field, literal) pairs of which at least
/// one must occur (case-insensitively, as a substring) in the event for the rule to possibly
/// match: a field test needs one of its literals; an AND needs what its most selective child
/// needs; an OR needs the union of its children. A rule with a negation at the top, a regex,
/// a number or CIDR comparison, or a one-character literal gets no prefilter and is always
/// evaluated. Per event, each field that any rule needs is scanned once for all literals at
/// once, through a table keyed by the literal's first two (folded) bytes.
struct RulePrefilter: Sendable {
    /// The field name that stands for the raw record (keyword searches).
    static let rawField = FieldKey("\u{0}raw")

    /// Literals wanted in one field.
    struct FieldIndex: Sendable {
        let field: FieldKey
        var literals: [[UInt8]] = []
        /// Rule indices per literal.
        var owners: [[Int32]] = []
        /// Literal ids by leading folded bigram: 65,537 offsets into `entries`.
        var offsets: [Int32] = []
        var entries: [Int32] = []
        /// Every rule that needs this field (a non-ASCII value marks them all).
        var rules: [Int32] = []
        /// The literals' bytes back to back, and each literal's start (count + 1 offsets).
        var literalBytes: [UInt8] = []
        var literalStarts: [Int32] = []
        /// The owners back to back, and each literal's first owner (count + 1 offsets).
        var ownerList: [Int32] = []
        var ownerStarts: [Int32] = []
    }

    /// Per rule: true when it has a prefilter and may be skipped unless marked.
    let filtered: [Bool]
    let indexes: [FieldIndex]
    /// FieldKey.rawValue → position in `indexes`, or -1.
    let slotByKey: [Int32]
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
        for slot in indexes.indices {
            var buckets = [[Int32]](repeating: [], count: 65_536)
            for (id, literal) in indexes[slot].literals.enumerated() {
                buckets[Int(literal[0]) << 8 | Int(literal[1])].append(Int32(id))
            }
            var offsets = [Int32](repeating: 0, count: 65_537)
            var entries: [Int32] = []
            for bigram in 0..<65_536 {
                offsets[bigram] = Int32(entries.count)
                entries += buckets[bigram]
            }
            offsets[65_536] = Int32(entries.count)
            indexes[slot].offsets = offsets
            indexes[slot].entries = entries
            // Flat copies for the scan, which must not retain per literal.
            for (literal, owners) in zip(indexes[slot].literals, indexes[slot].owners) {
                indexes[slot].literalStarts.append(Int32(indexes[slot].literalBytes.count))
                indexes[slot].literalBytes += literal
                indexes[slot].ownerStarts.append(Int32(indexes[slot].ownerList.count))
                indexes[slot].ownerList += owners
            }
            indexes[slot].literalStarts.append(Int32(indexes[slot].literalBytes.count))
            indexes[slot].ownerStarts.append(Int32(indexes[slot].ownerList.count))
        }
        let maxKey = byField.keys.map { Int($0.rawValue) }.max() ?? -1
        var slotByKey = [Int32](repeating: -1, count: maxKey + 1)
        for (key, slot) in byField { slotByKey[Int(key.rawValue)] = Int32(slot) }
        self.filtered = filtered
        self.indexes = indexes
        self.slotByKey = slotByKey
        self.rawSlot = byField[Self.rawField] ?? -1
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
            default:
                return nil
            }
        }
        return result
    }

    /// Marks in `marks` every rule whose prefilter literal occurs in `event`'s fields.
    func mark(_ event: Event, needed: [Bool], into marks: inout [Bool]) {
        for field in event.fields {
            let raw = Int(field.key.rawValue)
            guard raw < slotByKey.count else { continue }
            let slot = Int(slotByKey[raw])
            guard slot >= 0, needed[slot] else { continue }
            scan(field.value, slot: slot, into: &marks)
        }
        if rawSlot >= 0, needed[rawSlot] { scan(event.raw, slot: rawSlot, into: &marks) }
    }

    private func scan(_ value: String, slot: Int, into marks: inout [Bool]) {
        indexes.withUnsafeBufferPointer { indexes in
            let index = indexes[slot]
            var value = value
            value.withUTF8 { bytes in
                guard TextPattern.isASCII(bytes) else {
                    // Unicode lowercasing could change the match; let every such rule be evaluated.
                    for rule in index.rules { marks[Int(rule)] = true }
                    return
                }
                guard bytes.count >= 2 else { return }
                index.offsets.withUnsafeBufferPointer { offsets in
                    index.entries.withUnsafeBufferPointer { entries in
                        index.literalBytes.withUnsafeBufferPointer { literalBytes in
                            index.literalStarts.withUnsafeBufferPointer { literalStarts in
                                index.ownerList.withUnsafeBufferPointer { ownerList in
                                    index.ownerStarts.withUnsafeBufferPointer { ownerStarts in
                                        var previous = TextPattern.lower(bytes[0])
                                        for position in 0..<(bytes.count - 1) {
                                            let next = TextPattern.lower(bytes[position + 1])
                                            let bigram = Int(previous) << 8 | Int(next)
                                            previous = next
                                            let start = Int(offsets[bigram]), end = Int(offsets[bigram + 1])
                                            guard start < end else { continue }
                                            for entry in start..<end {
                                                let literal = Int(entries[entry])
                                                let from = Int(literalStarts[literal]), to = Int(literalStarts[literal + 1])
                                                guard bytes.count - position >= to - from else { continue }
                                                var equal = true
                                                var cursor = position
                                                for byteIndex in from..<to {
                                                    if TextPattern.lower(bytes[cursor]) != literalBytes[byteIndex] { equal = false; break }
                                                    cursor += 1
                                                }
                                                guard equal else { continue }
                                                for owner in Int(ownerStarts[literal])..<Int(ownerStarts[literal + 1]) { marks[Int(ownerList[owner])] = true }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
