/// A Sigma value after wildcard parsing: literal text and the wildcards `*` and `?`.
///
/// Escaping follows the specification: a backslash before `*`, `?` or `\` makes that
/// character literal; any other backslash is itself literal.
struct SigmaString: Equatable, Hashable {
    enum Part: Equatable, Hashable {
        case literal(String)
        case anyRun  // *
        case anyOne  // ?
    }

    var parts: [Part]

    /// Parses `text`, treating unescaped `*` and `?` as wildcards.
    init(parsing text: String) {
        var parts: [Part] = []
        var literal = ""
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        func flush() {
            if !literal.isEmpty {
                parts.append(.literal(literal))
                literal = ""
            }
        }
        while let scalar = pending {
            pending = iterator.next()
            switch scalar {
            case "\\":
                if let next = pending, next == "*" || next == "?" || next == "\\" {
                    literal.unicodeScalars.append(next)
                    pending = iterator.next()
                } else {
                    literal.unicodeScalars.append(scalar)
                }
            case "*":
                flush()
                if parts.last != .anyRun { parts.append(.anyRun) }
            case "?":
                flush()
                parts.append(.anyOne)
            default:
                literal.unicodeScalars.append(scalar)
            }
        }
        flush()
        self.parts = parts
    }

    /// A value with no wildcards.
    init(literal: String) { parts = literal.isEmpty ? [] : [.literal(literal)] }

    init(parts: [Part]) { self.parts = parts }

    /// The text when the value has no wildcards.
    var plainText: String? {
        if parts.isEmpty { return "" }
        if parts.count == 1, case .literal(let text) = parts[0] { return text }
        return nil
    }

    /// `*value*`, `value*` or `*value` without doubling a wildcard already there.
    func wrapped(leading: Bool, trailing: Bool) -> SigmaString {
        var result = parts
        if leading, result.first != .anyRun { result.insert(.anyRun, at: 0) }
        if trailing, result.last != .anyRun { result.append(.anyRun) }
        return SigmaString(parts: result)
    }

    /// Applies `transform` to every literal part.
    func mapLiterals(_ transform: (String) -> String) -> SigmaString {
        SigmaString(parts: parts.map { part in
            if case .literal(let text) = part { return .literal(transform(text)) }
            return part
        })
    }
}
