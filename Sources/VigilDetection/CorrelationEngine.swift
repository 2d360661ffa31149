import Foundation
import VigilModel

/// Evaluates Sigma correlation rules on event time with true sliding windows per group.
///
/// Each group keeps only the events inside its window plus the allowed lateness, so memory
/// is bounded by the window. A window is every set of events within `timespan` of each other
/// (both ends inclusive); the condition is checked for the window ending at each event. Once a
/// window fires, each later event of the group whose own window still satisfies the condition
/// continues the occurrence, and one from the machine the window fired on is a detection marked
/// `continuesCorrelation`, which folds into the same alert, so the alert counts every event of
/// its machine while the condition holds; the group fires anew only for a
/// window that starts after the last one it fired or continued ended.
/// Event time is kept per correlation and group: events up to `lateness` older than the
/// newest of their own group are still placed in order, so one machine's clock cannot move
/// another's. An event dated more than `maxFutureSkew` after the wall clock never enters a
/// window at all (its own detections are raised as usual), so a bad or hostile clock cannot
/// push any group's time forward and blind it.
public final class CorrelationEngine {
    /// One matched event inside a group's window.
    struct Entry: Codable, Equatable {
        var time: Int64
        var key: Int64
        var rule: Int
        var value: String?
    }

    struct GroupState: Codable {
        var entries: [Entry] = []
        var lastFired: Int64?
        /// The newest event time this group has seen: its own watermark (nil in state saved
        /// before watermarks were kept per group).
        var newest: Int64?
        /// The machine (lowercased host name) the last firing was raised on: only its events
        /// continue that alert (nil in state saved before continuations).
        var firedOn: String?
    }

    public let correlations: [CorrelationRule]
    /// How far behind the newest event of its group an event may arrive and still count.
    public var lateness: Duration
    /// How far after the wall clock an event may be dated and still enter a window.
    public var maxFutureSkew: Duration
    private var correlationsByRule: [String: [Int]] = [:]
    private var suppressed: Set<String> = []
    private var states: [[String: GroupState]]
    private static let countKey = FieldKey("correlation_count")
    /// At most this many event links per correlation alert.
    static let linkLimit = 1000

    public init(ruleSet: RuleSet, lateness: Duration = .seconds(600), maxFutureSkew: Duration = .seconds(86_400)) {
        correlations = ruleSet.correlations
        self.lateness = lateness
        self.maxFutureSkew = maxFutureSkew
        states = Array(repeating: [:], count: correlations.count)
        var generating: Set<String> = []
        for (index, correlation) in correlations.enumerated() {
            for id in correlation.ruleIDs {
                correlationsByRule[id, default: []].append(index)
                if correlation.generate { generating.insert(id) } else { suppressed.insert(id) }
            }
        }
        suppressed.subtract(generating)
    }

    /// True when there is nothing to correlate.
    public var isEmpty: Bool { correlations.isEmpty }

    /// Whether detections of `ruleID` feed a correlation window.
    public func feeds(_ ruleID: String) -> Bool { correlationsByRule[ruleID] != nil }

    /// What an ingest node raises at once when the windows run on another node: the event's own
    /// detections, less those of rules correlated with `generate: false`.
    public func ownDetections(_ detections: [Detection]) -> [Detection] {
        suppressed.isEmpty ? detections : detections.filter { !suppressed.contains($0.rule.id) }
    }

    /// The fields of `event` that the correlations fed by `ruleID` read: their group-by fields
    /// (under the rule's aliases, and as written) and value field. With these alone, `process`
    /// and the alert's dedupe key on another node come out as they would have here.
    public func correlatedFields(of event: Event, ruleID: String) -> [EventField] {
        var fields: [EventField] = []
        for index in correlationsByRule[ruleID] ?? [] {
            let correlation = correlations[index]
            // The group-by names as written too: a correlation alert's dedupe key reads them.
            var names = correlation.groupBy.map { correlation.fieldName($0, for: ruleID) } + correlation.groupBy
            if let valueField = correlation.valueField { names.append(valueField) }
            for name in names where !fields.contains(where: { $0.key.name == name }) {
                if let value = event.value(of: FieldKey(name)) { fields.append(EventField(FieldKey(name), value)) }
            }
        }
        return fields
    }

    /// The latest event time that is not future-dated at `now`.
    public func futureAfter(now: Timestamp) -> Timestamp { now + maxFutureSkew }

    /// True when `event` is dated more than `maxFutureSkew` after `now`: it is stored and
    /// flagged, but never enters a correlation window.
    public func isFutureDated(_ event: Event, now: Timestamp = .now()) -> Bool {
        event.time > futureAfter(now: now)
    }

    /// Feeds the detections of one event; returns the detections to raise as alerts: the
    /// event's own (except rules correlated with `generate: false`) and any correlation that
    /// fired. A future-dated event's detections are all raised and feed no window.
    public func process(event: Event, key: Int64, detections: [Detection], now: Timestamp = .now()) -> [Detection] {
        guard !correlations.isEmpty, !isFutureDated(event, now: now) else { return detections }
        var raised: [Detection] = []
        var queue = detections
        while !queue.isEmpty {
            let detection = queue.removeFirst()
            if !suppressed.contains(detection.rule.id) { raised.append(detection) }
            for index in correlationsByRule[detection.rule.id] ?? [] {
                guard let fired = feed(index, event: event, key: key, ruleID: detection.rule.id) else { continue }
                // A continuation is the same occurrence going on: chained correlations saw it fire already.
                if fired.continuesCorrelation { raised.append(fired) } else { queue.append(fired) }
            }
        }
        return raised
    }

    private func feed(_ index: Int, event: Event, key: Int64, ruleID: String) -> Detection? {
        let correlation = correlations[index]
        let time = event.time.microseconds
        let span = correlation.timespan.microseconds
        let groupValues = correlation.groupValues(for: event, ruleID: ruleID)
        let groupKey = groupValues.joined(separator: "\u{1F}")
        var state = states[index][groupKey] ?? GroupState()
        if let newest = state.newest, time < newest - span - lateness.microseconds { return nil }  // too late to matter
        let newest = max(state.newest ?? time, time)
        state.newest = newest
        // The same event again (a re-import) changes nothing.
        guard !state.entries.contains(where: { $0.key == key && $0.rule == (correlation.ruleIDs.firstIndex(of: ruleID) ?? 0) }) else { return nil }
        let ruleIndex = correlation.ruleIDs.firstIndex(of: ruleID) ?? 0
        let value = correlation.valueField.map { event.value(of: FieldKey($0)) ?? "" }
        let entry = Entry(time: time, key: key, rule: ruleIndex, value: value)
        let position = state.entries.firstIndex { $0.time > time } ?? state.entries.endIndex
        state.entries.insert(entry, at: position)
        // Forget what no future window can reach.
        let horizon = newest - span - lateness.microseconds
        if let keep = state.entries.firstIndex(where: { $0.time >= horizon }), keep > 0 { state.entries.removeFirst(keep) }

        var fired: Detection?
        // Windows that contain the new event end at it or at a later event within the span.
        for end in state.entries where end.time >= time && end.time <= time + span {
            let window = state.entries.filter { $0.time >= end.time - span && $0.time <= end.time }
            let measure = Self.measure(correlation, window)
            guard correlation.condition.holds(measure) else { continue }
            var fields = zip(correlation.groupBy, groupValues).map { EventField(FieldKey($0), $1) }
            fields.append(EventField(Self.countKey, String(measure)))
            if let last = state.lastFired, end.time - span <= last {
                // The window overlaps the one that fired: the occurrence goes on. An event of the
                // machine it fired on is counted in its alert; another machine's (a group that
                // spans machines) only extends it.
                state.lastFired = max(last, end.time)
                guard state.firedOn == event.machine.hostname.lowercased() else { break }
                var continued = Detection(rule: correlation.info, matchedFields: fields)
                continued.continuesCorrelation = true
                fired = continued
                break
            }
            state.lastFired = end.time
            state.firedOn = event.machine.hostname.lowercased()
            fired = Detection(rule: correlation.info, matchedFields: fields,
                              relatedEventKeys: window.prefix(Self.linkLimit).map(\.key).filter { $0 != key },
                              windowStart: window.first.map { Timestamp(microseconds: $0.time) })
            break
        }
        states[index][groupKey] = state.entries.isEmpty ? nil : state
        return fired
    }

    /// The number the condition is checked against, for one window.
    static func measure(_ correlation: CorrelationRule, _ window: [Entry]) -> Int {
        switch correlation.kind {
        case .eventCount:
            return window.count
        case .valueCount:
            return Set(window.compactMap(\.value)).count
        case .temporal:
            return Set(window.map(\.rule)).count
        case .temporalOrdered:
            // The longest prefix of the rules that occurs in order (greedy earliest matches).
            var matched = 0
            var cursor = Int64.min
            for rule in correlation.ruleIDs.indices {
                guard let next = window.first(where: { $0.rule == rule && $0.time >= cursor }) else { break }
                cursor = next.time
                matched += 1
            }
            return matched
        }
    }

    /// The window state, to keep between imports: (correlation id, group key, JSON).
    public func exportState() throws -> [(correlationID: String, groupKey: String, state: String)] {
        let encoder = JSONEncoder()
        var rows: [(correlationID: String, groupKey: String, state: String)] = []
        for (index, groups) in states.enumerated() {
            for (groupKey, state) in groups {
                rows.append((correlations[index].info.id, groupKey, String(decoding: try encoder.encode(state), as: UTF8.self)))
            }
        }
        return rows
    }

    /// Restores state saved by `exportState`; rows of correlations no longer loaded are ignored.
    public func importState(_ rows: [(correlationID: String, groupKey: String, state: String)]) throws {
        let decoder = JSONDecoder()
        for row in rows {
            guard let index = correlations.firstIndex(where: { $0.info.id == row.correlationID }) else { continue }
            var state = try decoder.decode(GroupState.self, from: Data(row.state.utf8))
            // State saved before watermarks were kept per group: its newest entry is its watermark.
            if state.newest == nil { state.newest = state.entries.last?.time }
            states[index][row.groupKey] = state
        }
    }
}
