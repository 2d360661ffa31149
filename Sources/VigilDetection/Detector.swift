import Foundation
import VigilModel

/// Runs a `RuleSet` over events. Keeps a per-logsource list of candidate rules and scratch
/// memory for the prefilter; a copy makes its own scratch memory on first use, so give each
/// thread its own `Detector`.
///
/// The per-event path reads rules and tables through plain pointers, so it does no
/// reference counting on objects that the threads sharing one rule set would contend on.
public struct Detector {
    public let ruleSet: RuleSet

    /// One rule that can apply to a logsource.
    private struct Candidate {
        var rule: Int32
        /// How many of the rule's prefilter groups must be marked; 0: always evaluate it.
        var groups: UInt8
    }

    /// The rules that can apply to one logsource, and which prefilter fields they need.
    private struct Candidates {
        var rules: UnsafeMutableBufferPointer<Candidate>
        var neededFields: UnsafeMutableBufferPointer<Bool>
        var anyFiltered: Bool
    }

    /// The memory a detector owns; its buffers live in `arena`.
    private final class Memory {
        var arena = UnsafeBufferArena()
        let marks: UnsafeMutableBufferPointer<Bool>
        /// Unretained: `ruleSet` keeps the rules and the prefilter alive.
        let rules: UnsafeMutableBufferPointer<Unmanaged<CompiledRule>>
        let prefilter: Unmanaged<RulePrefilter>
        var candidates: [Candidates] = []

        init(ruleSet: RuleSet) {
            marks = arena.copy([Bool](repeating: false, count: RulePrefilter.mark(rule: ruleSet.rules.count, group: 0)))
            rules = arena.copy(ruleSet.rules.map { Unmanaged.passUnretained($0) })
            prefilter = .passUnretained(ruleSet.prefilter)
        }
    }

    private var memory: Memory
    private var candidatePositions: [LogSource: Int] = [:]
    /// Events of a file mostly share one logsource: the last lookup skips hashing it again.
    /// `lastLogSource` means nothing while `last` is nil. It is not optional: comparing an
    /// event's logsource with an optional one copied the event's into an optional first (a
    /// retain and a release of each of its strings, per event).
    private var lastLogSource = LogSource()
    private var last: Candidates?

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        memory = Memory(ruleSet: ruleSet)
    }

    /// Appends a detection to `detections` for every rule that matches `event`.
    public mutating func detect(_ event: Event, into detections: inout [Detection]) {
        if !isKnownUniquelyReferenced(&memory) { self = Detector(ruleSet: ruleSet) }
        if last == nil || event.logSource != lastLogSource {
            last = candidates(for: event.logSource)
            lastLogSource = event.logSource
        }
        guard let entry = last, entry.rules.count > 0 else { return }
        let marks = memory.marks.baseAddress!
        if entry.anyFiltered {
            memory.prefilter._withUnsafeGuaranteedRef { $0.mark(event, needed: UnsafeBufferPointer(entry.neededFields), into: marks) }
        }
        let rules = memory.rules
        for candidate in entry.rules {
            let position = Int(candidate.rule)
            if candidate.groups > 0 {
                guard marks[RulePrefilter.mark(rule: position, group: 0)],
                      candidate.groups == 1 || marks[RulePrefilter.mark(rule: position, group: 1)] else { continue }
            }
            if rules[position]._withUnsafeGuaranteedRef({ $0.matches(event) }) {
                detections.append(rules[position].takeUnretainedValue().detection(for: event))
            }
        }
        // Marks may also be set for rules of other logsources that share a literal.
        if entry.anyFiltered { memory.marks.update(repeating: false) }
    }

    private mutating func candidates(for logSource: LogSource) -> Candidates {
        if let position = candidatePositions[logSource] { return memory.candidates[position] }
        let rules = ruleSet.rules.indices.filter { ruleSet.rules[$0].info.logSource.covers(logSource) }.map(Int32.init)
        let prefilter = ruleSet.prefilter
        let needed = prefilter.indexes.map { index in index.groups.contains { rules.contains(RulePrefilter.rule(ofMark: $0)) } }
        let entry = Candidates(
            rules: memory.arena.copy(rules.map { Candidate(rule: $0, groups: prefilter.groupCounts[Int($0)]) }),
            neededFields: memory.arena.copy(needed),
            anyFiltered: rules.contains { prefilter.groupCounts[Int($0)] > 0 })
        memory.candidates.append(entry)
        candidatePositions[logSource] = memory.candidates.count - 1
        return entry
    }
}
