import Foundation
import Testing
@testable import VigilDetection
import VigilModel

/// A pathological `re` cannot hang detection: each evaluation stops at its budget, and a
/// pattern that keeps stopping is no longer evaluated.
@Suite struct RegexBudgetTests {
    @Test func catastrophicBacktrackingStopsAtTheBudgetAndThePatternIsTripped() throws {
        // `(x+)+y` against 40 x's explores about 2^40 paths: hours without a budget.
        let pattern = "^(x+)+y$"
        let ruleSet = try compile(rule("selection:\n    f|re: '\(pattern)'"))
        let hostile = event(#"{"f":"\#(String(repeating: "x", count: 40))","logsource":{"product":"test"}}"#)
        let benign = event(#"{"f":"xxxy","logsource":{"product":"test"}}"#)
        #expect(matchingTitles(ruleSet, benign) == ["test"])

        let stoppedBefore = RegexBudget.stoppedEvaluations
        let started = ContinuousClock.now
        for _ in 0..<10 { #expect(matchingTitles(ruleSet, hostile).isEmpty) }
        let elapsed = ContinuousClock.now - started
        // Three stopped evaluations of 50 ms, then the pattern is skipped: far below a second
        // even on a loaded machine, where an unbounded match would not finish at all.
        #expect(elapsed < .seconds(20))
        #expect(RegexBudget.stoppedEvaluations - stoppedBefore >= 3)
        #expect(RegexBudget.trippedPatterns.contains(pattern))
        #expect(RegexBudget.warning?.contains(pattern) == true)
        // Once tripped, the pattern never matches, even input it would have matched.
        #expect(matchingTitles(ruleSet, benign).isEmpty)
    }

    @Test func ordinaryPatternsAreNeverStopped() throws {
        let ruleSet = try compile(rule("selection:\n    f|re: '^[a-z]+\\d{2,4}$'"))
        for index in 0..<1_000 {
            let matched = !matchingTitles(ruleSet, event(#"{"f":"host\#(index + 10)","logsource":{"product":"test"}}"#)).isEmpty
            #expect(matched == (index + 10 < 10_000))
        }
    }
}

/// The literal a regex contributes to the rule prefilter must occur in every match.
@Suite struct RegexRequiredLiteralTests {
    @Test(arguments: [
        (#"(?i)/lib/python3\.([5-9]|[0-9]{2})/site-packages/"#, "/site-packages/", "/usr/LIB/python3.11/Site-Packages/x"),
        (#"/mail/tmp/[a-zA-Z0-9]{3}[0-9]{3}\.tar\.gz"#, "/mail/tmp/", "/var/mail/tmp/abc123.tar.gz"),
        (#"https://[0-9]{1,3}\.[0-9]{1,3}"#, "https://", "curl https://10.0.0.1/x"),
        (#"ab+cdef"#, "cdef", "abbbcdef"),
        (#"colou?r scheme"#, "r scheme", "color scheme"),
        (#"x{2}yyyz"#, "yyyz", "xxyyyz"),
        (#"\x41BCDE"#, "", "ABCDE"),
        (#"abc|defgh"#, "", "abc"),
        (#"[^/]{100,}$"#, "", String(repeating: "a", count: 100)),
        (#"\s-O\s"#, "", "wget -O file"),
        (#"(^|\/)\.[^.\/]"#, "", "/.hidden"),
        (#"(?x) cur l \ http"#, "", "curl http"),
    ])
    func literalIsRequired(pattern: String, literal: String, matching: String) throws {
        let regex = try BoundedRegex(pattern: pattern, options: [])
        #expect(String(decoding: regex.requiredLiteral, as: UTF8.self) == literal)
        #expect(regex.matches(matching), "the example must match")
        if !literal.isEmpty { #expect(matching.lowercased().contains(literal)) }
    }

    @Test func aPrefilteredRegexRuleStillMatchesThroughTheDetector() throws {
        let ruleSet = try compile(rule("selection:\n    f|re: '/mail/tmp/[a-zA-Z0-9]{3}[0-9]{3}\\.tar\\.gz'"))
        #expect(ruleSet.prefilter.filtered == [true])
        #expect(matchingTitles(ruleSet, event(#"{"f":"/var/MAIL/tmp/abc123.tar.gz","logsource":{"product":"test"}}"#)).isEmpty)
        #expect(matchingTitles(ruleSet, event(#"{"f":"/var/mail/tmp/abc123.tar.gz","logsource":{"product":"test"}}"#)) == ["test"])
        #expect(matchingTitles(ruleSet, event(#"{"f":"/var/mail/tmp/abc12.tar.gz","logsource":{"product":"test"}}"#)).isEmpty)
    }
}
