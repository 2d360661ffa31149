import VigilModel

/// A compiled string test: equality, prefix, suffix, substring or a general wildcard pattern,
/// case-insensitive unless built `caseSensitive`.
///
/// Case folding takes an ASCII fast path over the value's UTF-8 bytes and allocates nothing;
/// only a non-ASCII value that failed the fast path is lowercased and tested again.
struct TextPattern: Sendable {
    enum Kind: Sendable { case equals, prefix, suffix, contains, glob, anything }

    enum GlobToken: Sendable, Equatable {
        case literal([UInt8])
        case anyRun
        case anyOne
    }

    let kind: Kind
    /// The literal for every kind but `glob`, lowercased when case-insensitive.
    let needle: [UInt8]
    let glob: [GlobToken]
    let caseSensitive: Bool
    /// For a glob: its longest literal, which any match must contain (a cheap first test).
    let requiredLiteral: [UInt8]

    init(_ value: SigmaString, caseSensitive: Bool) {
        self.caseSensitive = caseSensitive
        let fold: (String) -> String = caseSensitive ? { $0 } : { $0.lowercased() }
        let parts = value.mapLiterals(fold).parts
        func bytes(_ part: SigmaString.Part) -> [UInt8]? {
            if case .literal(let text) = part { return Array(text.utf8) }
            return nil
        }
        switch parts.count {
        case 0:
            (kind, needle, glob, requiredLiteral) = (.equals, [], [], [])
            return
        case 1:
            if let literal = bytes(parts[0]) {
                (kind, needle, glob, requiredLiteral) = (.equals, literal, [], [])
                return
            }
            if parts[0] == .anyRun {
                (kind, needle, glob, requiredLiteral) = (.anything, [], [], [])
                return
            }
        case 2:
            if parts[1] == .anyRun, let literal = bytes(parts[0]) {
                (kind, needle, glob, requiredLiteral) = (.prefix, literal, [], [])
                return
            }
            if parts[0] == .anyRun, let literal = bytes(parts[1]) {
                (kind, needle, glob, requiredLiteral) = (.suffix, literal, [], [])
                return
            }
        case 3:
            if parts[0] == .anyRun, parts[2] == .anyRun, let literal = bytes(parts[1]) {
                (kind, needle, glob, requiredLiteral) = (.contains, literal, [], [])
                return
            }
        default:
            break
        }
        kind = .glob
        needle = []
        glob = parts.map { part in
            switch part {
            case .literal(let text): .literal(Array(text.utf8))
            case .anyRun: .anyRun
            case .anyOne: .anyOne
            }
        }
        requiredLiteral = glob.compactMap { token -> [UInt8]? in
            if case .literal(let bytes) = token { return bytes }
            return nil
        }.max { $0.count < $1.count } ?? []
    }

    /// True when `value` matches.
    func matches(_ value: String) -> Bool {
        let outcome = value.utf8.withContiguousStorageIfAvailable { bytes -> Bool? in
            if matchesBytes(bytes, fold: !caseSensitive) { return true }
            // Only a non-ASCII value can still match after full Unicode lowercasing.
            return caseSensitive || bytes.isASCII ? false : nil
        }
        switch outcome {
        case .some(.some(let matched)): return matched
        case .some(.none): return value.lowercased().utf8.withContiguousStorageIfAvailable { matchesBytes($0, fold: false) } ?? false
        case .none: return matches(String(decoding: Array(value.utf8), as: UTF8.self))
        }
    }

    private func matchesBytes(_ value: UnsafeBufferPointer<UInt8>, fold: Bool) -> Bool {
        switch kind {
        case .anything:
            return true
        case .glob:
            let found = requiredLiteral.withUnsafeBufferPointer { Self.find($0, in: value, from: 0, fold: fold) }
            guard found != nil else { return false }
            return glob.withUnsafeBufferPointer { Self.globMatch($0, 0, value, 0, fold: fold) }
        default:
            return needle.withUnsafeBufferPointer { needle in
                switch kind {
                case .equals: value.count == needle.count && Self.equal(value, 0, needle, fold: fold)
                case .prefix: value.count >= needle.count && Self.equal(value, 0, needle, fold: fold)
                case .suffix: value.count >= needle.count && Self.equal(value, value.count - needle.count, needle, fold: fold)
                default: Self.find(needle, in: value, from: 0, fold: fold) != nil
                }
            }
        }
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte &- 65 < 26 ? byte | 0x20 : byte
    }

    @inline(__always)
    static func equal(_ value: UnsafeBufferPointer<UInt8>, _ offset: Int, _ needle: UnsafeBufferPointer<UInt8>, fold: Bool) -> Bool {
        var index = offset
        if fold {
            for byte in needle {
                if lower(value[index]) != byte { return false }
                index += 1
            }
        } else {
            for byte in needle {
                if value[index] != byte { return false }
                index += 1
            }
        }
        return true
    }

    /// The offset of the first occurrence of `needle` in `value` at or after `start`.
    static func find(_ needle: UnsafeBufferPointer<UInt8>, in value: UnsafeBufferPointer<UInt8>, from start: Int, fold: Bool) -> Int? {
        guard let first = needle.first else { return start }
        let last = value.count - needle.count
        guard start <= last else { return nil }
        var index = start
        while index <= last {
            let byte = fold ? lower(value[index]) : value[index]
            if byte == first, equal(value, index, needle, fold: fold) { return index }
            index += 1
        }
        return nil
    }

    /// Wildcard matching of `tokens` from `tokenIndex` against `value` from `start`: `*` spans
    /// any run of characters, `?` exactly one (UTF-8 aware).
    static func globMatch(_ tokens: UnsafeBufferPointer<GlobToken>, _ tokenIndex: Int, _ value: UnsafeBufferPointer<UInt8>, _ start: Int, fold: Bool) -> Bool {
        var position = start
        var tokenIndex = tokenIndex
        while tokenIndex < tokens.count {
            switch tokens[tokenIndex] {
            case .literal(let literal):
                let matched = literal.withUnsafeBufferPointer { literal in
                    value.count - position >= literal.count && equal(value, position, literal, fold: fold)
                }
                guard matched else { return false }
                position += literal.count
            case .anyOne:
                guard position < value.count else { return false }
                position += characterLength(value[position])
            case .anyRun:
                let rest = tokenIndex + 1
                guard rest < tokens.count else { return true }
                if case .literal(let literal) = tokens[rest] {
                    return literal.withUnsafeBufferPointer { literal in
                        var candidate = position
                        while let found = find(literal, in: value, from: candidate, fold: fold) {
                            if globMatch(tokens, rest, value, found, fold: fold) { return true }
                            candidate = found + 1
                        }
                        return false
                    }
                }
                var candidate = position
                while candidate <= value.count {
                    if globMatch(tokens, rest, value, candidate, fold: fold) { return true }
                    guard candidate < value.count else { break }
                    candidate += characterLength(value[candidate])
                }
                return false
            }
            tokenIndex += 1
        }
        return position == value.count
    }

    @inline(__always)
    static func characterLength(_ lead: UInt8) -> Int {
        if lead < 0x80 { return 1 }
        if lead >= 0xF0 { return 4 }
        if lead >= 0xE0 { return 3 }
        if lead >= 0xC0 { return 2 }
        return 1
    }
}
