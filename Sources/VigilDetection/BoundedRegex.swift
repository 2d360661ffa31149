import Foundation
import Synchronization

/// A Sigma `re` pattern evaluated under a time budget, so catastrophic backtracking such as
/// `(a+)+$` against `aaaa…b` cannot hang the engine.
///
/// ICU reports progress while it matches; an evaluation that runs past `budget` is stopped and
/// counts as no match. After `strikeLimit` such stops the pattern is tripped: it is no longer
/// evaluated and never matches. Both are counted in `RegexBudget` for the run's summary.
final class BoundedRegex: Sendable {
    /// How long one evaluation may run.
    static let budget: Duration = .milliseconds(50)
    /// Stopped evaluations after which the pattern is no longer evaluated.
    static let strikeLimit = 3

    let pattern: String
    /// Literals (ASCII, lowercased) one of which every match contains, for the rule
    /// prefilter; empty when the pattern tells none.
    let requiredLiterals: [[UInt8]]
    /// NSRegularExpression is immutable after creation and documented as thread-safe.
    nonisolated(unsafe) private let expression: NSRegularExpression
    private let strikes = Atomic<Int>(0)

    init(pattern: String, options: NSRegularExpression.Options) throws {
        self.pattern = pattern
        expression = try NSRegularExpression(pattern: pattern, options: options)
        requiredLiterals = RegexLiterals.required(in: pattern)
    }

    func matches(_ value: String) -> Bool {
        guard strikes.load(ordering: .relaxed) < Self.strikeLimit else { return false }
        let clock = ContinuousClock()
        // ICU reports progress at every start position it tries; the clock is read only every
        // 256th report, so short evaluations never read it.
        var deadline: ContinuousClock.Instant?
        var reports = 0
        var matched = false
        var stopped = false
        expression.enumerateMatches(in: value, options: .reportProgress, range: NSRange(value.startIndex..., in: value)) { result, _, stop in
            if result != nil {
                matched = true
                stop.pointee = true
                return
            }
            reports &+= 1
            guard reports & 255 == 0 else { return }
            if let deadline {
                if clock.now > deadline {
                    stopped = true
                    stop.pointee = true
                }
            } else {
                deadline = clock.now.advanced(by: Self.budget)
            }
        }
        if stopped {
            let count = strikes.add(1, ordering: .relaxed).newValue
            RegexBudget.recordStop(pattern: pattern, tripped: count == Self.strikeLimit)
        }
        return matched
    }
}

/// Process-wide counts of regex evaluations stopped at the time budget, for `vigil import`,
/// `hunt` and `serve` to report.
public enum RegexBudget {
    private static let stops = Atomic<Int>(0)
    private static let tripped = Mutex<[String]>([])

    /// Evaluations stopped at the budget since the process started.
    public static var stoppedEvaluations: Int { stops.load(ordering: .relaxed) }

    /// Patterns no longer evaluated because they kept running past the budget.
    public static var trippedPatterns: [String] { tripped.withLock { $0 } }

    /// One line for stderr when any evaluation was stopped; nil otherwise.
    public static var warning: String? {
        let count = stoppedEvaluations
        guard count > 0 else { return nil }
        let patterns = trippedPatterns
        var text = "warning: \(count) regular-expression evaluations ran past \(BoundedRegex.budget) and counted as no match"
        if !patterns.isEmpty {
            text += "; no longer evaluated: " + patterns.map { "'\($0.prefix(80))'" }.joined(separator: ", ")
        }
        return text + ". Rewrite these `|re` patterns without nested quantifiers."
    }

    static func recordStop(pattern: String, tripped isTripped: Bool) {
        stops.add(1, ordering: .relaxed)
        if isTripped { tripped.withLock { $0.append(pattern) } }
    }
}
