/// Many case-insensitive literals on one field (`Image|endswith: [30 names]`) merged into one
/// matcher: needles are bucketed by the byte a match must start or end with, so a value is
/// tested only against the needles that can match it, in one pass.
struct MultiPattern: Sendable {
    /// A needle and the kind of match it needs.
    private struct Needle: Sendable {
        var bytes: [UInt8]
        var kind: TextPattern.Kind
    }

    private var needles: [Needle] = []
    /// Needle indices by first byte (equals, prefix, contains) or last byte (suffix), as flat
    /// arrays with 257 offsets each, so lookups copy nothing.
    private var byFirstByte = Buckets()
    private var byLastByte = Buckets()

    private struct Buckets: Sendable {
        var offsets = [Int32](repeating: 0, count: 257)
        var indices: [Int32] = []

        init() {}

        init(_ lists: [[Int32]]) {
            for (byte, list) in lists.enumerated() {
                offsets[byte] = Int32(indices.count)
                indices += list
            }
            offsets[256] = Int32(indices.count)
        }

        @inline(__always) func range(_ byte: UInt8) -> Range<Int> { Int(offsets[Int(byte)])..<Int(offsets[Int(byte) + 1]) }
    }
    private var hasContains = false
    /// The patterns, for the slow path on non-ASCII values.
    private let patterns: [TextPattern]

    /// Merging pays from this many literals on.
    static let threshold = 4

    /// Nil unless every pattern is a case-insensitive, non-empty literal of a mergeable kind.
    init?(_ patterns: [TextPattern]) {
        guard patterns.count >= Self.threshold else { return nil }
        for pattern in patterns {
            guard !pattern.caseSensitive, !pattern.needle.isEmpty, pattern.kind != .glob, pattern.kind != .anything else { return nil }
        }
        self.patterns = patterns
        var first = [[Int32]](repeating: [], count: 256)
        var last = [[Int32]](repeating: [], count: 256)
        for (index, pattern) in patterns.enumerated() {
            needles.append(Needle(bytes: pattern.needle, kind: pattern.kind))
            if pattern.kind == .suffix {
                last[Int(pattern.needle.last!)].append(Int32(index))
            } else {
                first[Int(pattern.needle.first!)].append(Int32(index))
                if pattern.kind == .contains { hasContains = true }
            }
        }
        byFirstByte = Buckets(first)
        byLastByte = Buckets(last)
    }

    /// The literal of every merged pattern (for the rule prefilter).
    var literalNeedles: [[UInt8]]? { needles.map(\.bytes) }

    func matches(_ value: String) -> Bool {
        var value = value
        let outcome = value.withUTF8 { bytes -> Bool? in
            if matchesFolded(bytes) { return true }
            // Non-ASCII text may still match after full Unicode lowercasing.
            return TextPattern.isASCII(bytes) ? false : nil
        }
        if let outcome { return outcome }
        return patterns.contains { $0.matches(value) }
    }

    private func matchesFolded(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let firstByte = value.first, let lastByte = value.last else { return false }
        return needles.withUnsafeBufferPointer { needles in
            byLastByte.indices.withUnsafeBufferPointer { lastIndices in
                byFirstByte.indices.withUnsafeBufferPointer { firstIndices in
                    for slot in byLastByte.range(TextPattern.lower(lastByte)) {
                        let needle = needles[Int(lastIndices[slot])].bytes
                        if value.count >= needle.count, TextPattern.equal(value, value.count - needle.count, needle[...], fold: true) { return true }
                    }
                    for slot in byFirstByte.range(TextPattern.lower(firstByte)) {
                        let needle = needles[Int(firstIndices[slot])]
                        guard value.count >= needle.bytes.count else { continue }
                        switch needle.kind {
                        case .equals: if value.count == needle.bytes.count, TextPattern.equal(value, 0, needle.bytes[...], fold: true) { return true }
                        case .prefix, .contains: if TextPattern.equal(value, 0, needle.bytes[...], fold: true) { return true }
                        default: break
                        }
                    }
                    guard hasContains else { return false }
                    var position = 1
                    while position < value.count {
                        for slot in byFirstByte.range(TextPattern.lower(value[position])) {
                            let needle = needles[Int(firstIndices[slot])]
                            guard needle.kind == .contains, value.count - position >= needle.bytes.count else { continue }
                            if TextPattern.equal(value, position, needle.bytes[...], fold: true) { return true }
                        }
                        position += 1
                    }
                    return false
                }
            }
        }
    }
}
