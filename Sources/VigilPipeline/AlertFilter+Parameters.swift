import VigilModel
import VigilStore

extension AlertFilter {
    /// A filter parameter with a value it cannot take; the message names the parameter as the
    /// caller spells it and lists what it can take.
    public struct ParameterError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The parameter names every alert listing takes: the HTTP API's query parameters, and the
    /// CLI's options (`severity_in` is `--severity-in`).
    public static let parameterNames = [
        "os", "severity", "severity_in", "status", "classification", "since", "until", "first_since", "first_until",
        "created_since", "created_until", "machine", "rule", "technique", "integration", "incident", "search", "sort", "order", "limit",
    ]

    /// The filter that named parameters ask for: one parser for `vigil alerts` and
    /// `GET /api/v1/alerts`. Names not in `parameterNames` are ignored; `spell` turns a name into
    /// how the caller wrote it, for messages (`--severity-in` on the command line).
    public init(parameters: [String: String], spell: (String) -> String = { $0 }) throws(ParameterError) {
        self.init()
        func fail(_ name: String, _ message: String) -> ParameterError { ParameterError(description: "\(spell(name)) \(message)") }
        func word(_ name: String, _ vocabulary: [String]) throws(ParameterError) -> String? {
            guard let text = parameters[name] else { return nil }
            guard let canonical = AlertUpdate.canonical(text, in: vocabulary) else {
                throw fail(name, "'\(text)' is unknown; use one of \(vocabulary.joined(separator: ", "))")
            }
            return canonical
        }
        func time(_ name: String) throws(ParameterError) -> Timestamp? {
            guard let text = parameters[name] else { return nil }
            guard let time = Timestamp(absoluteOrRelative: text) else {
                throw fail(name, "'\(text)' is neither ISO 8601 (2026-11-27T10:00:00Z) nor relative (30m, 24h, 7d, 2w)")
            }
            return time
        }
        let severityNames = Severity.allCases.map(\.name).joined(separator: ", ")
        if let os = parameters["os"] {
            guard let platform = OSPlatform(rawValue: os) else {
                throw fail("os", "'\(os)' is unknown; use one of \(OSPlatform.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.platform = platform
        }
        if let severity = parameters["severity"] {
            guard let parsed = Severity(name: severity) else { throw fail("severity", "'\(severity)' is unknown; use one of \(severityNames)") }
            minimumSeverity = parsed
        }
        if let list = parameters["severity_in"] {
            let names = list.split(separator: ",").map(String.init)
            if let unknown = names.first(where: { Severity(name: $0) == nil }) {
                throw fail("severity_in", "'\(unknown)' is unknown; use one of \(severityNames)")
            }
            severities = Set(names.compactMap(Severity.init(name:)))
        }
        status = try word("status", AlertUpdate.statuses)
        classification = try word("classification", AlertUpdate.classifications)
        since = try time("since")
        until = try time("until")
        firstSince = try time("first_since")
        firstUntil = try time("first_until")
        createdSince = try time("created_since")
        createdUntil = try time("created_until")
        machine = parameters["machine"]
        rule = parameters["rule"]
        technique = parameters["technique"]
        integration = parameters["integration"]
        if let text = parameters["incident"] {
            guard let id = Int64(text), id > 0 else { throw fail("incident", "must be an incident id (a positive number)") }
            incident = id
        }
        self.text = parameters["search"]
        if let text = parameters["sort"] {
            guard let parsed = Sort(rawValue: text) else {
                throw fail("sort", "must be one of \(Sort.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sort = parsed
        }
        if let order = parameters["order"] {
            guard order == "asc" || order == "desc" else { throw fail("order", "must be asc or desc") }
            ascending = order == "asc"
        }
        if let text = parameters["limit"] {
            guard let value = Int(text), value > 0 else { throw fail("limit", "must be a positive number (at most \(Self.pageCap))") }
            limit = min(value, Self.pageCap)
        }
    }
}
