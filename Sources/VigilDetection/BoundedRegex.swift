import Foundation
import Synchronization

/// A Sigma `re` pattern evaluated under bounded work, so neither catastrophic backtracking such
/// as `(a+)+$` against `aaaa…b` nor a multi-megabyte value can hang the engine.
///
/// A regex sees at most the first `maximumInputLength` UTF-16 code units of a value (64 Ki: a
/// match further in is not found; the rule's other tests still see the whole value). ICU
/// reports progress while it matches; an evaluation that runs past `budget` is stopped and
/// counts as no match for that value only, and is counted in `RegexBudget`. Data never switches
/// a pattern off: the next value is evaluated as usual.
final class BoundedRegex: Sendable {
    /// How long one evaluation may run.
    static let budget: Duration = .milliseconds(50)
    /// The longest prefix of a value a regex is run on, in UTF-16 code units.
    static let maximumInputLength = 65_536

    let pattern: String
    /// Literals (ASCII, lowercased) one of which every match contains, for the rule
    /// prefilter; empty when the pattern tells none.
    let requiredLiterals: [[UInt8]]
    /// NSRegularExpression is immutable after creation and documented as thread-safe.
    nonisolated(unsafe) private let expression: NSRegularExpression

    init(pattern: String, options: NSRegularExpression.Options) throws {
        self.pattern = pattern
        expression = try NSRegularExpression(pattern: pattern, options: options)
        requiredLiterals = RegexLiterals.required(in: pattern)
    }

    func matches(_ value: String) -> Bool {
        let length = value.utf16.count
        let range = NSRange(location: 0, length: min(length, Self.maximumInputLength))
        if range.length < length { RegexBudget.recordCapped() }
        let clock = ContinuousClock()
        // ICU reports progress at every start position it tries; the clock is read only every
        // 256th report, so short evaluations never read it.
        var deadline: ContinuousClock.Instant?
        var reports = 0
        var matched = false
        var stopped = false
        expression.enumerateMatches(in: value, options: .reportProgress, range: range) { result, _, stop in
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
        if stopped { RegexBudget.recordStop(pattern: pattern) }
        return matched
    }
}

/// Process-wide counts of bounded regex work, for `vigil import`, `hunt` and `serve` to report.
public enum RegexBudget {
    private static let stops = Atomic<Int>(0)
    private static let capped = Atomic<Int>(0)
    /// The first few patterns that were stopped, to name in the warning.
    private static let stoppedPatterns = Mutex<[String]>([])
    private static let namedPatternLimit = 10

    /// Evaluations stopped at the budget (each counted as no match) since the process started.
    public static var stoppedEvaluations: Int { stops.load(ordering: .relaxed) }

    /// Evaluations that saw only the first `maximumInputLength` code units of a longer value.
    public static var cappedEvaluations: Int { capped.load(ordering: .relaxed) }

    /// One line for stderr when any evaluation was stopped or capped; nil otherwise.
    public static var warning: String? {
        let (stopCount, capCount) = (stoppedEvaluations, cappedEvaluations)
        guard stopCount > 0 || capCount > 0 else { return nil }
        var parts: [String] = []
        if stopCount > 0 {
            let patterns = stoppedPatterns.withLock { $0 }
            parts.append("\(stopCount) regular-expression evaluations ran past \(BoundedRegex.budget) and counted as no match for their value"
                + " (patterns: " + patterns.map { "'\($0.prefix(80))'" }.joined(separator: ", ")
                + "; rewrite them without nested quantifiers)")
        }
        if capCount > 0 {
            parts.append("\(capCount) values were longer than \(BoundedRegex.maximumInputLength) characters; regexes saw only their start")
        }
        return "warning: " + parts.joined(separator: "; ")
    }

    static func recordStop(pattern: String) {
        stops.add(1, ordering: .relaxed)
        stoppedPatterns.withLock { patterns in
            if patterns.count < namedPatternLimit, !patterns.contains(pattern) { patterns.append(pattern) }
        }
    }

    static func recordCapped() {
        capped.add(1, ordering: .relaxed)
    }
}
