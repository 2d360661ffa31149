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

    /// The rules that can apply to one logsource, as bit sets over rule indices (a word per 64
    /// rules, as the prefilter's marks), and which prefilter fields they need.
    private struct Candidates {
        /// Rules without a prefilter: always evaluated.
        var always: UnsafeMutableBufferPointer<UInt64>
        /// Rules evaluated when their group 0 is marked.
        var oneGroup: UnsafeMutableBufferPointer<UInt64>
        /// Rules evaluated when their groups 0 and 1 are both marked.
        var twoGroups: UnsafeMutableBufferPointer<UInt64>
        var neededFields: UnsafeMutableBufferPointer<Bool>
        var anyFiltered: Bool
    }

    /// The memory a detector owns; its buffers live in `arena`.
    private final class Memory {
        var arena = UnsafeBufferArena()
        /// The prefilter's marks for the event at hand: group 0's words, then group 1's.
        let marks: UnsafeMutableBufferPointer<UInt64>
        /// Unretained: `ruleSet` keeps the rules and the prefilter alive.
        let rules: UnsafeMutableBufferPointer<Unmanaged<CompiledRule>>
        let prefilter: Unmanaged<RulePrefilter>
        var candidates: [Candidates] = []

        init(ruleSet: RuleSet) {
            marks = arena.copy([UInt64](repeating: 0, count: ruleSet.prefilter.markWords))
            rules = arena.copy(ruleSet.rules.map { Unmanaged.passUnretained($0) })
            prefilter = .passUnretained(ruleSet.prefilter)
        }
    }

    private var memory: Memory
    private var candidatePositions: [LogSource: Int] = [:]
    /// The most logsources whose candidates a detector keeps. Events name their own logsource
    /// (a JSON record's `logsource.*`), so a hostile input may name a new one in every record;
    /// past this many, the detector frees what it kept and starts over.
    static let mostLogSourcesKept = 256
    /// How many logsources' candidates are kept now.
    var logSourcesKept: Int { candidatePositions.count }
    /// Events of a file mostly share one logsource, or alternate between two (auditd's process
    /// events and its other records): the last two lookups skip hashing it again.
    /// `lastLogSource` means nothing while `last` is nil, `previousLogSource` while `previous`
    /// is. They are not optional: comparing an event's logsource with an optional one copied
    /// the event's into an optional first (a retain and a release of each of its strings).
    private var lastLogSource = LogSource(), previousLogSource = LogSource()
    private var last: Candidates?, previous: Candidates?

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        memory = Memory(ruleSet: ruleSet)
    }

    /// Appends a detection to `detections` for every rule that matches `event`.
    public mutating func detect(_ event: Event, into detections: inout [Detection]) {
        if !isKnownUniquelyReferenced(&memory) { self = Detector(ruleSet: ruleSet) }
        if last == nil || event.logSource != lastLogSource {
            if previous != nil && event.logSource == previousLogSource {
                swap(&last, &previous)
                swap(&lastLogSource, &previousLogSource)
            } else {
                previous = last
                previousLogSource = lastLogSource
                last = candidates(for: event.logSource)
                lastLogSource = event.logSource
            }
        }
        guard let entry = last else { return }
        let marks = memory.marks
        if entry.anyFiltered {
            memory.prefilter._withUnsafeGuaranteedRef { $0.mark(event, needed: UnsafeBufferPointer(entry.neededFields), into: marks.baseAddress!) }
        }
        let rules = memory.rules
        // The rules to evaluate, 64 at a time, in rule order: those without a prefilter, and
        // those whose every group is marked.
        let words = entry.always.count
        for word in 0..<words {
            let group0 = marks[word], group1 = marks[words + word]
            var evaluate = entry.always[word] | group0 & (entry.oneGroup[word] | group1 & entry.twoGroups[word])
            while evaluate != 0 {
                let position = word &* 64 &+ evaluate.trailingZeroBitCount
                evaluate &= evaluate &- 1
                if rules[position]._withUnsafeGuaranteedRef({ $0.matches(event) }) {
                    detections.append(rules[position].takeUnretainedValue().detection(for: event))
                }
            }
        }
        // Marks may also be set for rules of other logsources that share a literal.
        if entry.anyFiltered { marks.update(repeating: 0) }
    }

    private mutating func candidates(for logSource: LogSource) -> Candidates {
        if let position = candidatePositions[logSource] { return memory.candidates[position] }
        if candidatePositions.count >= Self.mostLogSourcesKept {
            // The kept candidates, `last` and `previous` among them, live in the old memory.
            memory = Memory(ruleSet: ruleSet)
            candidatePositions = [:]
            last = nil
            previous = nil
        }
        let rules = ruleSet.rules.indices.filter { ruleSet.rules[$0].info.logSource.covers(logSource) }.map(Int32.init)
        let prefilter = ruleSet.prefilter
        var isCandidate = [Bool](repeating: false, count: ruleSet.rules.count)
        for rule in rules { isCandidate[Int(rule)] = true }
        let needed = prefilter.indexes.map { index in index.groups.contains { isCandidate[Int(prefilter.rule(ofMark: $0))] } }
        var sets = [[UInt64]](repeating: [UInt64](repeating: 0, count: prefilter.markWords / 2), count: 3)
        for rule in rules { sets[Int(prefilter.groupCounts[Int(rule)])][Int(rule) >> 6] |= 1 << UInt64(rule & 63) }
        let entry = Candidates(
            always: memory.arena.copy(sets[0]), oneGroup: memory.arena.copy(sets[1]), twoGroups: memory.arena.copy(sets[2]),
            neededFields: memory.arena.copy(needed),
            anyFiltered: rules.contains { prefilter.groupCounts[Int($0)] > 0 })
        memory.candidates.append(entry)
        candidatePositions[logSource] = memory.candidates.count - 1
        return entry
    }
}
