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
    /// A literal every match must contain (ASCII, lowercased), for the rule prefilter; empty
    /// when the pattern has none of at least three characters.
    let requiredLiteral: [UInt8]
    /// NSRegularExpression is immutable after creation and documented as thread-safe.
    nonisolated(unsafe) private let expression: NSRegularExpression
    private let strikes = Atomic<Int>(0)

    init(pattern: String, options: NSRegularExpression.Options) throws {
        self.pattern = pattern
        expression = try NSRegularExpression(pattern: pattern, options: options)
        requiredLiteral = Self.longestRequiredLiteral(pattern)
    }

    /// The longest run of literal characters at the top level of `pattern` that every match
    /// must contain. Conservative: a top-level `|` gives none; groups, classes, escapes such as
    /// `\d`, anchors and optional characters end a run. Case is folded, since the prefilter
    /// compares case-insensitively (a weaker, still necessary, condition).
    static func longestRequiredLiteral(_ pattern: String) -> [UInt8] {
        let bytes = Array(pattern.utf8)
        // `(?x)` makes spaces insignificant, so the pattern's text is not what it matches: give up.
        var scan = 0
        while scan + 1 < bytes.count {
            if bytes[scan] == UInt8(ascii: "("), bytes[scan + 1] == UInt8(ascii: "?") {
                var flag = scan + 2
                while flag < bytes.count, (0x61...0x7A).contains(bytes[flag]) || bytes[flag] == UInt8(ascii: "-") {
                    if bytes[flag] == UInt8(ascii: "x") { return [] }
                    flag += 1
                }
            }
            scan += 1
        }
        var best: [UInt8] = [], run: [UInt8] = []
        func endRun() {
            if run.count > best.count { best = run }
            run = []
        }
        var index = 0
        var depth = 0
        while index < bytes.count {
            let byte = bytes[index]
            // A literal character, plain or escaped punctuation.
            var literal: UInt8?
            var width = 1
            switch byte {
            case UInt8(ascii: "\\"):
                guard index + 1 < bytes.count else { return [] }
                let next = bytes[index + 1]
                width = 2
                // Escapes that consume what follows them (`\x41`, `\p{L}`, `\Q…\E`, back-references): give up.
                if Array("xuUpPNcQ0123456789kg".utf8).contains(next) { return [] }
                let isPunctuation = (0x21...0x2F).contains(next) || (0x3A...0x40).contains(next) || (0x5B...0x60).contains(next) || (0x7B...0x7E).contains(next)
                if isPunctuation { literal = next }
            case UInt8(ascii: "("):
                depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
            case UInt8(ascii: "|"):
                if depth == 0 { return [] }  // Alternatives at the top: no single literal is required.
            case UInt8(ascii: "["):
                // Skip the class; `]` right after `[` or `[^` is literal.
                var end = index + 1
                if end < bytes.count, bytes[end] == UInt8(ascii: "^") { end += 1 }
                if end < bytes.count, bytes[end] == UInt8(ascii: "]") { end += 1 }
                while end < bytes.count, bytes[end] != UInt8(ascii: "]") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
                width = end + 1 - index
            case UInt8(ascii: "{"):
                // A counted quantifier such as `{2,4}`: skip it whole.
                var end = index + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "}") { end += 1 }
                width = end + 1 - index
            case UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "}"):
                break
            default:
                if byte < 0x80 { literal = byte }
            }
            let following = index + width < bytes.count ? bytes[index + width] : nil
            let optional = following == UInt8(ascii: "?") || following == UInt8(ascii: "*") || following == UInt8(ascii: "{")
            if depth == 0, let literal, !optional {
                run.append(TextPattern.lower(literal))
                // `x+` needs one x, but what follows need not come right after it.
                if following == UInt8(ascii: "+") { endRun() }
            } else {
                endRun()
            }
            index += width
        }
        endRun()
        return best.count >= 3 ? best : []
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
