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
    /// Needle indices by first byte (equals, prefix, contains) or last byte (suffix).
    private var byFirstByte = [[Int32]](repeating: [], count: 256)
    private var byLastByte = [[Int32]](repeating: [], count: 256)
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
        for (index, pattern) in patterns.enumerated() {
            needles.append(Needle(bytes: pattern.needle, kind: pattern.kind))
            if pattern.kind == .suffix {
                byLastByte[Int(pattern.needle.last!)].append(Int32(index))
            } else {
                byFirstByte[Int(pattern.needle.first!)].append(Int32(index))
                if pattern.kind == .contains { hasContains = true }
            }
        }
    }

    func matches(_ value: String) -> Bool {
        var value = value
        let fast = value.withUTF8 { matchesFolded($0) }
        if fast { return true }
        // Non-ASCII text may still match after full Unicode lowercasing.
        guard value.utf8.contains(where: { $0 >= 0x80 }) else { return false }
        return patterns.contains { $0.matches(value) }
    }

    private func matchesFolded(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let firstByte = value.first, let lastByte = value.last else { return false }
        for index in byLastByte[Int(TextPattern.lower(lastByte))] {
            let needle = needles[Int(index)].bytes
            if value.count >= needle.count, TextPattern.equal(value, value.count - needle.count, needle[...], fold: true) { return true }
        }
        for index in byFirstByte[Int(TextPattern.lower(firstByte))] {
            let needle = needles[Int(index)]
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
            for index in byFirstByte[Int(TextPattern.lower(value[position]))] where needles[Int(index)].kind == .contains {
                let needle = needles[Int(index)].bytes
                if value.count - position >= needle.count, TextPattern.equal(value, position, needle[...], fold: true) { return true }
            }
            position += 1
        }
        return false
    }
}
