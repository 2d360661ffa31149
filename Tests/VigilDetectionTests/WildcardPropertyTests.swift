import Testing
import VigilDetection

/// Random strings against random wildcard patterns, checked with a simple reference matcher.
@Suite struct WildcardPropertyTests {
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
