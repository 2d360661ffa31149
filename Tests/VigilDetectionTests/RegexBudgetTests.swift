import Foundation
import Testing
import VigilTestSupport
@testable import VigilDetection
import VigilTooling
import VigilModel

/// A pathological `re` cannot hang detection, and no data can switch a rule off: each
/// evaluation stops at its budget or at the input cap, for that value only.
@Suite(.runsOn(.busy)) struct RegexBudgetTests {
    @Test func catastrophicBacktrackingStopsAtTheBudgetForThatValueOnly() throws {
        // `(x+)+y` against 40 x's explores about 2^40 paths: hours without a budget.
        let pattern = "^(x+)+y$"
        let ruleSet = try compile(rule("selection:\n    f|re: '\(pattern)'"))
        let hostile = event(#"{"f":"\#(String(repeating: "x", count: 40))","logsource":{"product":"test"}}"#)
        let benign = event(#"{"f":"xxxy","logsource":{"product":"test"}}"#)
        #expect(matchingTitles(ruleSet, benign) == ["test"])

        let stoppedBefore = RegexBudget.stoppedEvaluations
        for _ in 0..<5 { #expect(matchingTitles(ruleSet, hostile).isEmpty) }
        #expect(RegexBudget.stoppedEvaluations - stoppedBefore >= 5)
        #expect(RegexBudget.warning?.contains(pattern) == true)
        // However often it was stopped, the pattern still matches the next ordinary value.
        #expect(matchingTitles(ruleSet, benign) == ["test"])
    }

    @Test func aRegexSeesOnlyTheStartOfAHugeValue() throws {
        let ruleSet = try compile(rule("selection:\n    f|re: 'needle'"))
        let padding = String(repeating: "a", count: BoundedRegex.maximumInputLength)
        let cappedBefore = RegexBudget.cappedEvaluations
        #expect(matchingTitles(ruleSet, event(#"{"f":"needle\#(padding)","logsource":{"product":"test"}}"#)) == ["test"])
        #expect(matchingTitles(ruleSet, event(#"{"f":"\#(padding)needle","logsource":{"product":"test"}}"#)).isEmpty)
        #expect(RegexBudget.cappedEvaluations - cappedBefore == 2)
        #expect(RegexBudget.warning?.contains("regexes saw only their start") == true)
    }

    /// The EICAR rule, and the antivirus rule's EICAR filter, use no regular expression.
    @Test func theEICARDetectionDoesNotDependOnARegex() throws {
        let builtin = RuleSet.builtin()
        for title in ["EICAR test file detected", "Antivirus detection"] {
            let compiled = try #require(builtin.rules.first { $0.info.title == title })
            #expect(regexes(in: compiled.node).isEmpty, "\(title) uses a regular expression")
        }
    }

    @Test func ordinaryPatternsAreNeverStopped() throws {
        let ruleSet = try compile(rule("selection:\n    f|re: '^[a-z]+\\d{2,4}$'"))
        for index in 0..<1_000 {
            let matched = !matchingTitles(ruleSet, event(#"{"f":"host\#(index + 10)","logsource":{"product":"test"}}"#)).isEmpty
            #expect(matched == (index + 10 < 10_000))
        }
    }
}

/// The literals a regex contributes to the rule prefilter: every match contains one of them.
@Suite(.runsOn(.busy)) struct RegexRequiredLiteralTests {
    @Test(arguments: [
        (#"(?i)/lib/python3\.([5-9]|[0-9]{2})/site-packages/"#, ["/site-packages/"], "/usr/LIB/python3.11/Site-Packages/x"),
        (#"/mail/tmp/[a-zA-Z0-9]{3}[0-9]{3}\.tar\.gz"#, ["/mail/tmp/"], "/var/mail/tmp/abc123.tar.gz"),
        (#"https://[0-9]{1,3}\.[0-9]{1,3}"#, ["https://"], "curl https://10.0.0.1/x"),
        (#"ab+cdef"#, ["cdef"], "abbbcdef"),
        (#"colou?r scheme"#, ["color scheme", "colour scheme"], "color scheme"),
        (#"x{2}yyyz"#, ["xxyyyz"], "xxyyyz"),
        (#"abc|defgh"#, ["abc", "defgh"], "abc"),
        (#"-(W|R)\s?(\s|"|')([0-9a-fA-F]{2}\s?){2,20}"#, ["-r", "-w"], "pnscan -W 'de ad'"),
        (#"[Cc]url\s+-[Oo]"#, ["curl"], "Curl -O x"),
        (#"(?:wget|curl)\s.*(\|\s*(ba)?sh)"#, ["curl", "wget"], "curl x | sh"),
        (#"^(?=.*secret)pass(word)?"#, ["pass", "password"], "password secret"),
        (#"(?<user>root|admin)@"#, ["admin@", "root@"], "root@host"),
        (#"\x41BCDE"#, [], "ABCDE"),
        (#"[^/]{100,}$"#, [], String(repeating: "a", count: 100)),
        (#"\s-O\s"#, ["-o"], "wget -O file"),
        (#"(^|\/)\.[^.\/]"#, [], "/.hidden"),
        (#"(?x) cur l \ http"#, [], "curl http"),
        (#"a|.*"#, [], "zzz"),
        (#"(ab)*cd"#, ["cd"], "ababcd"),
        (#"x{0,3}yz"#, ["yz"], "yz"),
        (#"[a-z&&[^x]]yz"#, [], "ayz"),
        (#"[[:alpha:]]+yz"#, ["yz"], "abyz"),
    ])
    func literalsAreRequired(pattern: String, literals: [String], matching: String) throws {
        let regex = try BoundedRegex(pattern: pattern, options: [])
        #expect(regex.requiredLiterals.map { String(decoding: $0, as: UTF8.self) } == literals)
        #expect(regex.matches(matching), "the example must match")
        if !literals.isEmpty { #expect(literals.contains { matching.lowercased().contains($0) }) }
    }

    /// A property over the corpus regexes: random strings built from each pattern's literals
    /// and characters, whenever the regex matches one, contain one of its required literals.
    @Test func corpusRegexLiteralsHoldOnRandomMatches() throws {
        let ruleSet = RuleSet.load(paths: [corpusRoot + "/sigma", "builtin"]).ruleSet
        var random = SplitMix64(seed: 7)
        var matches = 0
        for regex in ruleSet.rules.flatMap({ regexes(in: $0.node) }) where !regex.requiredLiterals.isEmpty {
            let pieces = regex.requiredLiterals.map { String(decoding: $0, as: UTF8.self) }
                + regex.pattern.filter { $0.isASCII && !"\\()[]{}|?*+^$.".contains($0) }.map(String.init) + [" ", "0", "a", "/", "\"", "-"]
            for _ in 0..<1_000 {
                let text = (0..<Int(random.next() % 12)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
                guard regex.matches(text) else { continue }
                matches += 1
                let folded = Array(text.lowercased().utf8)
                #expect(regex.requiredLiterals.contains { folded.firstRange(of: $0) != nil }, "\(regex.pattern) matched \(text)")
            }
        }
        #expect(matches > 50, "the generated strings must match often enough to test anything")
    }

    @Test func aPrefilteredRegexRuleStillMatchesThroughTheDetector() throws {
        let ruleSet = try compile(rule("selection:\n    f|re: '/mail/tmp/[a-zA-Z0-9]{3}[0-9]{3}\\.tar\\.gz'"))
        #expect(ruleSet.prefilter.filtered == [true])
        #expect(matchingTitles(ruleSet, event(#"{"f":"/var/MAIL/tmp/abc123.tar.gz","logsource":{"product":"test"}}"#)).isEmpty)
        #expect(matchingTitles(ruleSet, event(#"{"f":"/var/mail/tmp/abc123.tar.gz","logsource":{"product":"test"}}"#)) == ["test"])
        #expect(matchingTitles(ruleSet, event(#"{"f":"/var/mail/tmp/abc12.tar.gz","logsource":{"product":"test"}}"#)).isEmpty)
    }
}

/// Every regex test in a match tree.
func regexes(in node: MatchNode) -> [BoundedRegex] {
    switch node {
    case .and(let children), .or(let children), .atLeast(_, let children): children.flatMap { regexes(in: $0) }
    case .not(let child): regexes(in: child)
    case .field(let test): test.tests.compactMap { if case .regex(let regex) = $0 { regex } else { nil } }
    case .keywords(let tests, _): tests.compactMap { if case .regex(let regex) = $0 { regex } else { nil } }
    case .constant: []
    }
}
