/// A parsed Sigma condition, before selection names are resolved.
indirect enum SigmaCondition: Equatable {
    case selection(String)
    /// `1 of pattern`, `all of pattern`, `N of pattern`; a nil pattern is `them`.
    case quantified(Quantifier, pattern: String?)
    case and(SigmaCondition, SigmaCondition)
    case or(SigmaCondition, SigmaCondition)
    case not(SigmaCondition)

    enum Quantifier: Equatable {
        case all
        case atLeast(Int)
    }

    /// Parses a condition with the specification's precedence: `not` binds tighter than
    /// `and`, which binds tighter than `or`; parentheses group.
    static func parse(_ text: String) throws(DetectionError) -> SigmaCondition {
        var parser = Parser(tokens: try tokenize(text), text: text)
        let condition = try parser.parseOr()
        guard parser.position == parser.tokens.count else {
            throw DetectionError(.badCondition, "unexpected '\(parser.tokens[parser.position])' in condition '\(text)'")
        }
        return condition
    }

    private static func tokenize(_ text: String) throws(DetectionError) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text {
            if character == "(" || character == ")" {
                if !current.isEmpty { tokens.append(current); current = "" }
                tokens.append(String(character))
            } else if character.isWhitespace {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else if character == "|" {
                throw DetectionError(.unsupported, "aggregation expressions ('| count() …') in conditions are deprecated Sigma v1 syntax; rewrite the rule as a correlation rule")
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        guard !tokens.isEmpty else { throw DetectionError(.badCondition, "the condition is empty") }
        return tokens
    }

    private struct Parser {
        let tokens: [String]
        let text: String
        var position = 0

        var peek: String? { position < tokens.count ? tokens[position].lowercased() : nil }

        mutating func parseOr() throws(DetectionError) -> SigmaCondition {
            var left = try parseAnd()
            while peek == "or" {
                position += 1
                left = .or(left, try parseAnd())
            }
            return left
        }

        mutating func parseAnd() throws(DetectionError) -> SigmaCondition {
            var left = try parseNot()
            while peek == "and" {
                position += 1
                left = .and(left, try parseNot())
            }
            return left
        }

        mutating func parseNot() throws(DetectionError) -> SigmaCondition {
            if peek == "not" {
                position += 1
                return .not(try parseNot())
            }
            return try parsePrimary()
        }

        mutating func parsePrimary() throws(DetectionError) -> SigmaCondition {
            guard let token = peek else {
                throw DetectionError(.badCondition, "condition '\(text)' ends where a selection was expected")
            }
            if token == "(" {
                position += 1
                let inner = try parseOr()
                guard peek == ")" else { throw DetectionError(.badCondition, "missing ')' in condition '\(text)'") }
                position += 1
                return inner
            }
            if token == ")" || token == "and" || token == "or" {
                throw DetectionError(.badCondition, "unexpected '\(token)' in condition '\(text)'")
            }
            if position + 1 < tokens.count, tokens[position + 1].lowercased() == "of" {
                let quantifier: Quantifier
                if token == "all" { quantifier = .all }
                else if token == "any" { quantifier = .atLeast(1) }
                else if let count = Int(token), count > 0 { quantifier = .atLeast(count) }
                else { throw DetectionError(.badCondition, "'\(token) of' in condition '\(text)': use '1 of', 'all of' or a positive number") }
                position += 2
                guard position < tokens.count else {
                    throw DetectionError(.badCondition, "'\(token) of' needs a selection pattern or 'them' in condition '\(text)'")
                }
                let target = tokens[position]
                position += 1
                return .quantified(quantifier, pattern: target.lowercased() == "them" ? nil : target)
            }
            position += 1
            return .selection(tokens[position - 1])
        }
    }
}
