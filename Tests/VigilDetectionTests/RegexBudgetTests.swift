import Foundation
import Testing
import VigilDetection
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
