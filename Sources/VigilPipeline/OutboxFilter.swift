import Foundation
import VigilModel
import VigilStore

/// Which outbox entries a subscription or a live stream wants.
public struct OutboxFilter: Sendable, Equatable {
    public var kinds: [OutboxKind]
    public var minimumSeverity: Severity
    /// OS platforms wanted; empty means all.
    public var platforms: [String]
    /// Rule ids wanted; empty means all.
    public var rules: [String]

    public init(kinds: [OutboxKind] = OutboxKind.allCases, minimumSeverity: Severity = .informational,
                platforms: [String] = [], rules: [String] = []) {
        self.kinds = kinds
        self.minimumSeverity = minimumSeverity
        self.platforms = platforms
        self.rules = rules
    }

    /// Whether `entry` passes: its kind, and the alert's (or, for an incident, the incident's)
    /// severity, platform and rule. An entry whose alert or incident is gone passes none.
    /// Incidents pass the platform and rule filters only when these are empty.
    public func wants(_ entry: OutboxEntry) -> Bool {
        guard kinds.contains(entry.kind) else { return false }
        if let alert = entry.alert {
            return alert.severity >= minimumSeverity
                && (platforms.isEmpty || platforms.contains(alert.osPlatform))
                && (rules.isEmpty || rules.contains(alert.ruleID))
        }
        if let incident = entry.incident {
            return incident.severity >= minimumSeverity && platforms.isEmpty && rules.isEmpty
        }
        return false
    }
}

extension OutboxFilter {
    /// The parameter names: `on` (outbox kinds), `min_severity`, `os` and `rule` (lists are
    /// comma-separated). The CLI spells them `--on`, `--min-severity`, `--os`, `--rule`.
    public static let parameterNames = ["on", "min_severity", "os", "rule"]

    /// The filter that named parameters ask for: one parser for `vigil notify add`, the
    /// subscriptions API and the live stream. `defaultKinds` apply without `on`.
    public init(parameters: [String: String], defaultKinds: [OutboxKind], spell: (String) -> String = { $0 }) throws(AlertFilter.ParameterError) {
        func fail(_ name: String, _ message: String) -> AlertFilter.ParameterError { AlertFilter.ParameterError(description: "\(spell(name)) \(message)") }
        func list(_ name: String) -> [String] {
            (parameters[name] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        self.init(kinds: defaultKinds)
        if parameters["on"] != nil {
            let names = list("on")
            let known = OutboxKind.allCases.map(\.rawValue).joined(separator: ", ")
            guard !names.isEmpty else { throw fail("on", "needs at least one of \(known)") }
            if let unknown = names.first(where: { OutboxKind(rawValue: $0) == nil }) { throw fail("on", "'\(unknown)' is unknown; use \(known)") }
            kinds = names.compactMap(OutboxKind.init(rawValue:))
        }
        if let text = parameters["min_severity"] {
            guard let severity = Severity(name: text) else {
                throw fail("min_severity", "'\(text)' is unknown; use one of \(Severity.allCases.map(\.name).joined(separator: ", "))")
            }
            minimumSeverity = severity
        }
        platforms = list("os")
        if let unknown = platforms.first(where: { OSPlatform(rawValue: $0) == nil }) {
            throw fail("os", "'\(unknown)' is unknown; use one of \(OSPlatform.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        rules = list("rule")
    }
}
