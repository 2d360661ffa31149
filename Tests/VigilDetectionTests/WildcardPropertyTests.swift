import Testing
import VigilTestSupport
import VigilDetection

/// Random strings against random wildcard patterns, checked with a simple reference matcher.
@Suite(.runsOn(.busy)) struct WildcardPropertyTests {
    /// Reference: classic recursive wildcard matching over characters, case-insensitive.
    static func reference(_ pattern: [Character], _ text: [Character]) -> Bool {
        guard let head = pattern.first else { return text.isEmpty }
        switch head {
        case "*":
            return (0...text.count).contains { reference(Array(pattern.dropFirst()), Array(text.dropFirst($0))) }
        case "?":
            return !text.isEmpty && reference(Array(pattern.dropFirst()), Array(text.dropFirst()))
        default:
            return !text.isEmpty && head.lowercased() == text[0].lowercased() && reference(Array(pattern.dropFirst()), Array(text.dropFirst()))
        }
    }

    @Test func agreesWithTheReferenceMatcher() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "B", "c", "é", "-"]
        var checked = 0
        for _ in 0..<300 {
            let pattern = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
                Int.random(in: 0..<4, using: &generator) == 0 ? (Bool.random(using: &generator) ? "*" : "?") : alphabet.randomElement(using: &generator)!
            }
            let yaml = rule("selection:\n    f: '\(String(pattern))'")
            let rules = try compile(yaml)
            for _ in 0..<10 {
                let text = (0..<Int.random(in: 0...6, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
                let json = #"{"f":"\#(String(text))","logsource":{"product":"test"}}"#
                let actual = !matchingTitles(rules, event(json)).isEmpty
                #expect(actual == Self.reference(pattern, text), "pattern '\(String(pattern))' text '\(String(text))'")
                checked += 1
            }
        }
        #expect(checked == 3000)
    }
}

/// Merged multi-literal matching against a plain reference over the same literals.
@Suite(.runsOn(.busy)) struct MultiPatternPropertyTests {
    @Test(arguments: ["contains", "startswith", "endswith", ""])
    func agreesWithPlainStringOperations(modifier: String) throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "B", "c", "/", "É", "e"]
        func random(_ range: ClosedRange<Int>) -> String {
            String((0..<Int.random(in: range, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        for _ in 0..<100 {
            let literals = (0..<Int.random(in: 4...8, using: &generator)).map { _ in random(1...3) }
            let spec = modifier.isEmpty ? "f" : "f|\(modifier)"
            let rules = try compile(rule("selection:\n    \(spec):\n" + literals.map { "        - '\($0)'" }.joined(separator: "\n")))
            for _ in 0..<20 {
                let text = random(0...6)
                let value = text.lowercased()
                let expected = literals.map { $0.lowercased() }.contains { literal in
                    switch modifier {
                    case "contains": value.contains(literal)
                    case "startswith": value.hasPrefix(literal)
                    case "endswith": value.hasSuffix(literal)
                    default: value == literal
                    }
                }
                let actual = !matchingTitles(rules, event(#"{"f":"\#(text)","logsource":{"product":"test"}}"#)).isEmpty
                #expect(actual == expected, "\(modifier) \(literals) on '\(text)'")
            }
        }
    }
}
