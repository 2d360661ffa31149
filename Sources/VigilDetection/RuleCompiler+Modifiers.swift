import Foundation
import VigilModel

/// The value modifiers of the Sigma specification (modifiers appendix).
enum SigmaModifier: String, CaseIterable {
    case contains, startswith, endswith, all, cased, exists, windash
    case re, i, m, s
    case base64, base64offset, utf16le, wide, utf16be, utf16
    case neq, lt, lte, gt, gte
    case cidr, fieldref, expand
    case minute, hour, day, week, month, year
}

extension RuleCompiler {
    /// A value on its way through the modifier chain.
    private enum PendingValue {
        case text(SigmaString)
        case bytes([UInt8])

        var asSigmaString: SigmaString {
            switch self {
            case .text(let value): value
            case .bytes(let bytes): SigmaString(literal: String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    /// Compiles one `Field|modifier…: value(s)` item; an empty field name is a keyword search.
    func compileItem(fieldSpec: String, value: YAMLValue) throws(DetectionError) -> MatchNode {
        let pieces = fieldSpec.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let fieldName = pieces[0]
        var modifiers: [SigmaModifier] = []
        for name in pieces.dropFirst() {
            guard let modifier = SigmaModifier(rawValue: name.lowercased()) else {
                throw DetectionError(.unknownModifier, "unknown modifier '\(name)' on '\(fieldSpec)'; Vigil supports \(SigmaModifier.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            modifiers.append(modifier)
        }
        let has = { (modifier: SigmaModifier) in modifiers.contains(modifier) }
        let isKeyword = fieldName.isEmpty
        let key = isKeyword ? nil : FieldKey(fieldName)

        let scalars: [(text: String, isNull: Bool)]
        switch value {
        case .scalar(let text, let isNull, _): scalars = [(text, isNull)]
        case .sequence(let items, _):
            var collected: [(text: String, isNull: Bool)] = []
            for item in items {
                guard case .scalar(let text, let isNull, _) = item else {
                    throw DetectionError(.badValue, "'\(fieldSpec)' must have a value or a list of values, not nested structures")
                }
                collected.append((text, isNull))
            }
            scalars = collected
        case .mapping:
            throw DetectionError(.badValue, "'\(fieldSpec)' must have a value or a list of values, not a mapping")
        }

        if has(.exists) {
            guard let key, scalars.count == 1, let flag = Bool(scalars[0].text.lowercased()) else {
                throw DetectionError(.badValue, "'exists' needs a field and the value true or false")
            }
            return .field(FieldTest(key: key, tests: [], presence: flag ? .mustBePresent : .mustBeAbsent, requireAll: false))
        }

        let requireAll = has(.all)
        // One value can stand for several (windash, base64offset, expand): its variants are OR.
        var testsPerValue: [[ValueTest]] = []
        var nullNodes: [MatchNode] = []
        for scalar in scalars {
            if scalar.isNull {
                guard let key else { throw DetectionError(.badValue, "a keyword search cannot be null") }
                // `null` matches a field that is absent or present with a null value.
                let nullValued = MatchNode.field(FieldTest(key: key, tests: [.text(TextPattern(SigmaString(literal: EventField.nullValue), caseSensitive: true))],
                                                           presence: .values, requireAll: false))
                nullNodes.append(.or([.field(FieldTest(key: key, tests: [], presence: .mustBeAbsent, requireAll: false)), nullValued]))
                continue
            }
            testsPerValue.append(try valueTests(for: scalar.text, modifiers: modifiers, isKeyword: isKeyword))
        }
        func node(_ tests: [ValueTest], requireAll: Bool) -> MatchNode {
            if let key { return .field(FieldTest(key: key, tests: tests, presence: .values, requireAll: requireAll)) }
            return .keywords(tests, requireAll: requireAll)
        }
        var nodes = nullNodes
        if requireAll && testsPerValue.contains(where: { $0.count > 1 }) {
            // `all`: every value must match, each through any one of its variants.
            nodes += testsPerValue.map { $0.count == 1 ? node($0, requireAll: true) : node(Self.merged($0), requireAll: false) }
        } else {
            let tests = testsPerValue.flatMap { $0 }
            if !tests.isEmpty { nodes.append(node(requireAll ? tests : Self.merged(tests), requireAll: requireAll)) }
        }
        let matched: MatchNode = nodes.isEmpty ? .constant(false) : nodes.count == 1 ? nodes[0] : requireAll ? .and(nodes) : .or(nodes)
        // `neq`: the field is none of the values (with `fieldref`: differs from the other field).
        return has(.neq) ? .not(matched) : matched
    }

    /// Replaces the plain literals among `tests` (OR semantics) with one `MultiPattern` when there are enough.
    static func merged(_ tests: [ValueTest]) -> [ValueTest] {
        var literals: [TextPattern] = []
        var others: [ValueTest] = []
        for test in tests {
            if case .text(let pattern) = test, !pattern.caseSensitive, pattern.kind != .glob, pattern.kind != .anything, !pattern.needle.isEmpty {
                literals.append(pattern)
            } else {
                others.append(test)
            }
        }
        guard let merged = MultiPattern(literals) else { return tests }
        return [.anyText(merged)] + others
    }

    private func valueTests(for text: String, modifiers: [SigmaModifier], isKeyword: Bool) throws(DetectionError) -> [ValueTest] {
        let has = { (modifier: SigmaModifier) in modifiers.contains(modifier) }
        if has(.re) {
            var options: NSRegularExpression.Options = []
            if has(.i) { options.insert(.caseInsensitive) }
            if has(.m) { options.insert(.anchorsMatchLines) }
            if has(.s) { options.insert(.dotMatchesLineSeparators) }
            do {
                return [.regex(try BoundedRegex(pattern: text, options: options))]
            } catch {
                throw DetectionError(.badRegex, "the regular expression '\(text)' does not compile: \(error.localizedDescription)")
            }
        }
        let comparison = modifiers.lazy.compactMap({ NumericComparison(rawValue: $0.rawValue) }).first
        if let part = modifiers.lazy.compactMap({ TimePart(rawValue: $0.rawValue) }).first {
            guard let number = Double(text) else {
                throw DetectionError(.badValue, "'\(part.rawValue)' compares a part of a date with a number, not '\(text)'")
            }
            return [.timePart(part, comparison, number)]
        }
        if let comparison {
            guard let bound = Double(text) else {
                throw DetectionError(.badValue, "'\(comparison.rawValue)' needs a number, not '\(text)'")
            }
            return [.numeric(comparison, bound)]
        }
        if has(.cidr) {
            guard let network = CIDRNetwork(text) else {
                throw DetectionError(.badValue, "'\(text)' is not an IPv4 or IPv6 network in CIDR notation")
            }
            return [.cidr(network)]
        }
        if has(.fieldref) {
            let kind: TextPattern.Kind = has(.contains) ? .contains : has(.startswith) ? .prefix : has(.endswith) ? .suffix : .equals
            return [.fieldReference(FieldKey(text), kind, caseSensitive: has(.cased))]
        }

        var texts = [text]
        if has(.expand) { texts = try expandPlaceholders(text) }
        var values: [PendingValue] = texts.map { .text(SigmaString(parsing: $0)) }
        for modifier in modifiers {
            switch modifier {
            case .windash:
                values = values.flatMap { value in Self.windashVariants(value.asSigmaString).map(PendingValue.text) }
            case .utf16le, .wide, .utf16be, .utf16:
                values = try values.map { value throws(DetectionError) in
                    guard let plain = value.asSigmaString.plainText else {
                        throw DetectionError(.badValue, "'\(modifier.rawValue)' cannot encode a value with wildcards")
                    }
                    return .bytes(Self.utf16(plain, modifier: modifier))
                }
            case .base64, .base64offset:
                var encoded: [PendingValue] = []
                for value in values {
                    let bytes: [UInt8]
                    switch value {
                    case .bytes(let raw): bytes = raw
                    case .text(let sigma):
                        guard let plain = sigma.plainText else {
                            throw DetectionError(.badValue, "'\(modifier.rawValue)' cannot encode a value with wildcards")
                        }
                        bytes = Array(plain.utf8)
                    }
                    let variants = modifier == .base64 ? [Data(bytes).base64EncodedString()] : Self.base64OffsetVariants(bytes)
                    encoded += variants.map { .text(SigmaString(literal: $0)) }
                }
                values = encoded
            case .contains:
                values = values.map { .text($0.asSigmaString.wrapped(leading: true, trailing: true)) }
            case .startswith:
                values = values.map { .text($0.asSigmaString.wrapped(leading: false, trailing: true)) }
            case .endswith:
                values = values.map { .text($0.asSigmaString.wrapped(leading: true, trailing: false)) }
            default:
                break
            }
        }
        let caseSensitive = has(.cased)
        return values.map { value in
            var sigma = value.asSigmaString
            // A keyword is a full-text search: it matches anywhere in the raw record.
            if isKeyword { sigma = sigma.wrapped(leading: true, trailing: true) }
            return .text(TextPattern(sigma, caseSensitive: caseSensitive))
        }
    }

    /// Every value `text` stands for with its `%placeholder%`s replaced from the table; `\%`
    /// is a literal `%`.
    private func expandPlaceholders(_ text: String) throws(DetectionError) -> [String] {
        let characters = Array(text)
        var percents: [Int] = []
        var index = 0
        while index < characters.count {
            if characters[index] == "\\", index + 1 < characters.count, characters[index + 1] == "%" {
                index += 2
                continue
            }
            if characters[index] == "%" { percents.append(index) }
            index += 1
        }
        guard percents.count >= 2 else { return [text.replacingOccurrences(of: "\\%", with: "%")] }
        let start = percents[0], end = percents[1]
        let name = String(characters[(start + 1)..<end])
        guard let replacements = placeholders[name] else {
            throw DetectionError(.badValue, "the placeholder %\(name)% has no values; define it in the placeholder table (--placeholders FILE)")
        }
        let before = String(characters[..<start]).replacingOccurrences(of: "\\%", with: "%")
        let after = String(characters[(end + 1)...])
        var results: [String] = []
        for replacement in replacements {
            // A replacement is a value, not a template: its own `%` and `\` are kept as they are.
            results += try expandPlaceholders(after).map { before + replacement + $0 }
        }
        return results
    }

    /// Every spelling of a command-line dash: `-`, `/`, en dash, em dash and horizontal bar,
    /// substituted at each position where a dash or slash starts an option.
    static func windashVariants(_ value: SigmaString) -> [SigmaString] {
        let dashes: [Character] = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"]
        var results: [[SigmaString.Part]] = [[]]
        for part in value.parts {
            guard case .literal(let text) = part else {
                results = results.map { $0 + [part] }
                continue
            }
            var texts = [""]
            let characters = Array(text)
            for (index, character) in characters.enumerated() {
                let previousIsWord = index > 0 && (characters[index - 1].isLetter || characters[index - 1].isNumber || characters[index - 1] == "_")
                if (character == "-" || character == "/") && !previousIsWord {
                    texts = texts.flatMap { prefix in dashes.map { prefix + String($0) } }
                } else {
                    texts = texts.map { $0 + String(character) }
                }
            }
            results = results.flatMap { prefix in texts.map { prefix + [.literal($0)] } }
        }
        return results.map(SigmaString.init(parts:))
    }

    static func utf16(_ text: String, modifier: SigmaModifier) -> [UInt8] {
        var bytes: [UInt8] = modifier == .utf16 ? [0xFF, 0xFE] : []
        for unit in text.utf16 {
            let low = UInt8(unit & 0xFF), high = UInt8(unit >> 8)
            bytes += modifier == .utf16be ? [high, low] : [low, high]
        }
        return bytes
    }

    /// The three base64 forms of `bytes` at each offset within a base64 group, trimmed to
    /// the characters that do not depend on the surrounding data.
    static func base64OffsetVariants(_ bytes: [UInt8]) -> [String] {
        let startOffsets = [0, 2, 3]
        let endTrim = [0, 3, 2]
        return (0..<3).map { shift in
            let encoded = Array(Data([UInt8](repeating: 0x20, count: shift) + bytes).base64EncodedString())
            let start = startOffsets[shift]
            let end = encoded.count - endTrim[(bytes.count + shift) % 3]
            return start < end ? String(encoded[start..<end]) : ""
        }
    }
}
