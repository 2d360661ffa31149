/// The literals a regular expression tells the rule prefilter about: a set of which every
/// match contains at least one, case folded (ASCII), each at least two bytes long.
///
/// The analysis follows the idea of RE2's prefilter. Each piece of the pattern yields the
/// exact strings it can match, while they are few, and a requirement: literals one of which
/// any match of the piece contains. A sequence joins neighbouring exact sets into longer
/// strings (`-(W|R)` gives `-w` or `-r`); an alternation unites its branches' requirements;
/// `+` keeps its operand's requirement, `?`, `*` and `{0,n}` keep none. Anything the analysis
/// does not understand (`\p{…}`, back-references, `(?x)`, non-ASCII) contributes nothing,
/// which is always safe: the rule is then simply evaluated more often.
enum RegexLiterals {
    /// The required literals of `pattern`, or an empty list when it needs none.
    static func required(in pattern: String) -> [[UInt8]] {
        var parser = Parser(bytes: Array(pattern.utf8))
        guard let piece = parser.alternation(), parser.index == parser.bytes.count else { return [] }
        return piece.bestRequirement.map { $0.sorted { $0.lexicographicallyPrecedes($1) } } ?? []
    }

    /// Exact sets larger than this are forgotten; requirements larger than `requirementLimit` too.
    static let exactLimit = 16
    static let requirementLimit = 64

    /// What one piece of a pattern can match.
    struct Piece {
        /// Every string the piece matches, when there are at most `exactLimit`.
        var exact: Set<[UInt8]>?
        /// Literals one of which every match of the piece contains.
        var required: Set<[UInt8]>?

        static let unknown = Piece(exact: nil, required: nil)
        static let empty = Piece(exact: [[]], required: nil)

        /// The better of the exact set (as a requirement) and the requirement.
        var bestRequirement: Set<[UInt8]>? {
            Self.better(exact.flatMap(Self.usable), required)
        }

        /// A set is usable as a requirement when it is non-empty and no literal is shorter than two bytes.
        static func usable(_ set: Set<[UInt8]>) -> Set<[UInt8]>? {
            !set.isEmpty && set.count <= RegexLiterals.requirementLimit && set.allSatisfy({ $0.count >= 2 }) ? set : nil
        }

        /// Longer shortest literal first, then fewer literals.
        static func better(_ first: Set<[UInt8]>?, _ second: Set<[UInt8]>?) -> Set<[UInt8]>? {
            guard let first else { return second }
            guard let second else { return first }
            let (a, b) = (first.map(\.count).min()!, second.map(\.count).min()!)
            if a != b { return a > b ? first : second }
            return first.count <= second.count ? first : second
        }
    }

    /// A recursive-descent reader of the pattern that computes pieces as it goes; nil means
    /// "give up on the whole pattern".
    struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func alternation() -> Piece? {
            var branches: [Piece] = []
            while true {
                guard let branch = sequence() else { return nil }
                branches.append(branch)
                guard current == UInt8(ascii: "|") else { break }
                index += 1
            }
            guard branches.count > 1 else { return branches[0] }
            var exact: Set<[UInt8]>? = []
            var required: Set<[UInt8]>? = []
            for branch in branches {
                if let branchExact = branch.exact, let union = exact?.union(branchExact), union.count <= RegexLiterals.exactLimit {
                    exact = union
                } else {
                    exact = nil
                }
                if let needed = branch.bestRequirement { required?.formUnion(needed) } else { required = nil }
            }
            return Piece(exact: exact, required: required.flatMap(Piece.usable))
        }

        mutating func sequence() -> Piece? {
            var best: Set<[UInt8]>?
            // The exact strings of the current run of exact pieces, joined end to end.
            var run: Set<[UInt8]> = [[]]
            var allExact = true
            while let byte = current, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
                guard let piece = quantified() else { return nil }
                if let exact = piece.exact, run.count * exact.count <= RegexLiterals.exactLimit {
                    run = Set(run.flatMap { head in exact.map { head + $0 } })
                    continue
                }
                best = Piece.better(best, Piece.usable(run))
                best = Piece.better(best, piece.bestRequirement)
                allExact = false
                run = piece.exact ?? [[]]
            }
            best = Piece.better(best, Piece.usable(run))
            return Piece(exact: allExact ? run : nil, required: best)
        }

        /// An atom and the quantifier after it, if any.
        mutating func quantified() -> Piece? {
            guard let atom = atom() else { return nil }
            guard let byte = current else { return atom }
            var result = atom
            switch byte {
            case UInt8(ascii: "?"):
                index += 1
                result = Piece(exact: atom.exact.map { $0.union([[]]) }, required: nil)
            case UInt8(ascii: "*"):
                index += 1
                result = .unknown
            case UInt8(ascii: "+"):
                index += 1
                result = Piece(exact: nil, required: atom.bestRequirement)
            case UInt8(ascii: "{"):
                guard let (low, high) = counted() else { return atom }  // A `{` that is not a quantifier is a literal.
                if low == 0 {
                    result = .unknown
                } else if low == high, let exact = atom.exact, (1...4).contains(low) {
                    var repeated: Set<[UInt8]> = [[]]
                    for _ in 0..<low { repeated = Set(repeated.flatMap { head in exact.map { head + $0 } }) }
                    result = repeated.count <= RegexLiterals.exactLimit ? Piece(exact: repeated, required: nil) : Piece(exact: nil, required: atom.bestRequirement)
                } else {
                    result = Piece(exact: nil, required: atom.bestRequirement)
                }
            default:
                return atom
            }
            // Lazy and possessive forms (`*?`, `++`) match the same strings.
            if let next = current, next == UInt8(ascii: "?") || next == UInt8(ascii: "+") { index += 1 }
            return result
        }

        /// Reads `{n}`, `{n,}` or `{n,m}` at `index`; nil (and nothing read) when it is not one.
        mutating func counted() -> (Int, Int?)? {
            var cursor = index + 1
            func number() -> Int? {
                var value: Int?
                while cursor < bytes.count, (0x30...0x39).contains(bytes[cursor]), (value ?? 0) < 100_000 {
                    value = (value ?? 0) * 10 + Int(bytes[cursor] - 0x30)
                    cursor += 1
                }
                return value
            }
            guard let low = number() else { return nil }
            var high: Int? = low
            if cursor < bytes.count, bytes[cursor] == UInt8(ascii: ",") {
                cursor += 1
                high = number()
            }
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "}") else { return nil }
            index = cursor + 1
            return (low, high)
        }

        mutating func atom() -> Piece? {
            guard let byte = current else { return nil }
            index += 1
            switch byte {
            case UInt8(ascii: "("):
                return group()
            case UInt8(ascii: "["):
                return characterClass()
            case UInt8(ascii: "\\"):
                return escape()
            case UInt8(ascii: "^"), UInt8(ascii: "$"):
                return .empty
            case UInt8(ascii: "."):
                return .unknown
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                return nil  // A quantifier with nothing to repeat: not a pattern we understand.
            default:
                return byte < 0x80 ? Piece(exact: [[TextPattern.lower(byte)]], required: nil) : .unknown
            }
        }

        /// After `(`: a group, a lookaround (zero width) or inline flags.
        mutating func group() -> Piece? {
            var zeroWidth = false
            if current == UInt8(ascii: "?") {
                index += 1
                switch current {
                case UInt8(ascii: ":"), UInt8(ascii: ">"):
                    index += 1
                case UInt8(ascii: "="), UInt8(ascii: "!"):
                    index += 1
                    zeroWidth = true
                case UInt8(ascii: "<"):
                    index += 1
                    if current == UInt8(ascii: "=") || current == UInt8(ascii: "!") {
                        index += 1
                        zeroWidth = true
                    } else {
                        guard skipName() else { return nil }
                    }
                case UInt8(ascii: "P"):
                    index += 1
                    guard current == UInt8(ascii: "<"), { index += 1; return skipName() }() else { return nil }
                default:
                    // Inline flags, `(?i)` or `(?i:…)`. Free spacing (`x`) changes what the text means: give up.
                    while let flag = current, (0x61...0x7A).contains(flag) || flag == UInt8(ascii: "-") {
                        if flag == UInt8(ascii: "x") { return nil }
                        index += 1
                    }
                    if current == UInt8(ascii: ")") {
                        index += 1
                        return .empty
                    }
                    guard current == UInt8(ascii: ":") else { return nil }
                    index += 1
                }
            }
            guard let inner = alternation(), current == UInt8(ascii: ")") else { return nil }
            index += 1
            return zeroWidth ? .empty : inner
        }

        /// Skips a group name and its closing `>`.
        mutating func skipName() -> Bool {
            while let byte = current, byte != UInt8(ascii: ">") { index += 1 }
            guard current == UInt8(ascii: ">") else { return false }
            index += 1
            return true
        }

        /// After `\`.
        mutating func escape() -> Piece? {
            guard let next = current else { return nil }
            index += 1
            switch next {
            case UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "A"), UInt8(ascii: "z"), UInt8(ascii: "Z"), UInt8(ascii: "G"):
                return .empty
            case UInt8(ascii: "d"), UInt8(ascii: "D"), UInt8(ascii: "w"), UInt8(ascii: "W"), UInt8(ascii: "s"), UInt8(ascii: "S"),
                 UInt8(ascii: "h"), UInt8(ascii: "H"), UInt8(ascii: "v"), UInt8(ascii: "V"), UInt8(ascii: "R"), UInt8(ascii: "X"):
                return .unknown
            case UInt8(ascii: "t"): return Piece(exact: [[0x09]], required: nil)
            case UInt8(ascii: "n"): return Piece(exact: [[0x0A]], required: nil)
            case UInt8(ascii: "r"): return Piece(exact: [[0x0D]], required: nil)
            default:
                let isPunctuation = (0x21...0x2F).contains(next) || (0x3A...0x40).contains(next) || (0x5B...0x60).contains(next) || (0x7B...0x7E).contains(next)
                // Escapes that read what follows them (`\x41`, `\p{L}`, `\Q…\E`, back-references): give up.
                return isPunctuation ? Piece(exact: [[next]], required: nil) : nil
            }
        }

        /// After `[`: a class of at most four (folded) ASCII characters is exact, any other unknown.
        mutating func characterClass() -> Piece? {
            var negated = false
            if current == UInt8(ascii: "^") {
                negated = true
                index += 1
            }
            var members: Set<UInt8> = []
            var understood = !negated
            var first = true
            while let byte = current, byte != UInt8(ascii: "]") || first {
                first = false
                index += 1
                if byte == UInt8(ascii: "\\") {
                    guard current != nil else { return nil }
                    index += 1
                    understood = false
                } else if byte == UInt8(ascii: "["), current == UInt8(ascii: ":") {
                    // A POSIX class such as `[:alpha:]` inside the brackets.
                    while let inner = current, inner != UInt8(ascii: "]") { index += 1 }
                    index += 1
                    understood = false
                } else if byte == UInt8(ascii: "[") {
                    // A nested set (`[a-z&&[^x]]`) ends at a later `]` than this reader would see.
                    return nil
                } else if current == UInt8(ascii: "-"), index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: "]") {
                    let upper = bytes[index + 1]
                    index += 2
                    guard byte < 0x80, upper < 0x80, byte <= upper, Int(upper) - Int(byte) < 8 else {
                        understood = false
                        continue
                    }
                    for member in byte...upper { members.insert(TextPattern.lower(member)) }
                } else if byte < 0x80 {
                    members.insert(TextPattern.lower(byte))
                } else {
                    understood = false
                }
            }
            guard current == UInt8(ascii: "]") else { return nil }
            index += 1
            guard understood, !members.isEmpty, members.count <= 4 else { return .unknown }
            return Piece(exact: Set(members.map { [$0] }), required: nil)
        }
    }
}
