import VigilModel

/// Many case-insensitive literals on one field (`Image|endswith: [30 names]`) merged into one
/// matcher: needles are bucketed by the byte a match must start or end with, so a value is
/// tested only against the needles that can match it, in one pass.
struct MultiPattern: Sendable {
    /// Every needle's bytes back to back; needle `i` is `bytes[starts[i]..<starts[i + 1]]`.
    private var bytes: [UInt8] = []
    private var starts: [Int32] = [0]
    private var kinds: [TextPattern.Kind] = []
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
            bytes += pattern.needle
            starts.append(Int32(bytes.count))
            kinds.append(pattern.kind)
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
    var literalNeedles: [[UInt8]]? { kinds.indices.map { Array(bytes[Int(starts[$0])..<Int(starts[$0 + 1])]) } }

    func matches(_ value: String) -> Bool {
        let outcome = value.utf8.withContiguousStorageIfAvailable { bytes -> Bool? in
            if matchesFolded(bytes) { return true }
            // Non-ASCII text may still match after full Unicode lowercasing.
            return bytes.isASCII ? false : nil
        }
        if case .some(.some(let matched)) = outcome { return matched }
        return patterns.contains { $0.matches(value) }
    }

    private func matchesFolded(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let firstByte = value.first, let lastByte = value.last else { return false }
        return bytes.withUnsafeBufferPointer { bytes in
            starts.withUnsafeBufferPointer { starts in
                // Needle `index`, compared at `offset` of the value.
                func occurs(_ index: Int32, at offset: Int) -> Bool {
                    let needle = UnsafeBufferPointer(rebasing: bytes[Int(starts[Int(index)])..<Int(starts[Int(index) + 1])])
                    return offset >= 0 && value.count - offset >= needle.count && TextPattern.equal(value, offset, needle, fold: true)
                }
                func length(_ index: Int32) -> Int { Int(starts[Int(index) + 1] - starts[Int(index)]) }
                for slot in byLastByte.range(TextPattern.lower(lastByte)) {
                    let index = byLastByte.indices[slot]
                    if occurs(index, at: value.count - length(index)) { return true }
                }
                for slot in byFirstByte.range(TextPattern.lower(firstByte)) {
                    let index = byFirstByte.indices[slot]
                    switch kinds[Int(index)] {
                    case .equals: if value.count == length(index), occurs(index, at: 0) { return true }
                    case .prefix, .contains: if occurs(index, at: 0) { return true }
                    default: break
                    }
                }
                guard hasContains else { return false }
                for position in 1..<max(value.count, 1) {
                    for slot in byFirstByte.range(TextPattern.lower(value[position])) {
                        let index = byFirstByte.indices[slot]
                        if kinds[Int(index)] == .contains, occurs(index, at: position) { return true }
                    }
                }
                return false
            }
        }
    }
}
