import VigilModel

/// A compiled Sigma correlation rule (specification v2): event_count, value_count, temporal
/// or temporal_ordered over the detections of other rules, grouped and windowed on event time.
public struct CorrelationRule: Sendable {
    public enum Kind: String, Sendable { case eventCount = "event_count", valueCount = "value_count", temporal, temporalOrdered = "temporal_ordered" }

    /// A count condition: every bound present must hold (a range is two bounds).
    public struct Condition: Sendable, Equatable {
        public var gt: Double?, gte: Double?, lt: Double?, lte: Double?, eq: Double?, neq: Double?

        public func holds(_ count: Int) -> Bool {
            let value = Double(count)
            if let gt, !(value > gt) { return false }
            if let gte, !(value >= gte) { return false }
            if let lt, !(value < lt) { return false }
            if let lte, !(value <= lte) { return false }
            if let eq, value != eq { return false }
            if let neq, value == neq { return false }
            return true
        }
    }

    public let info: RuleInfo
    public let name: String?
    public let kind: Kind
    /// The rules it correlates, resolved to rule ids, in the rule's order.
    public let ruleIDs: [String]
    /// The same rules' names or ids as written (for aliases).
    let references: [String]
    public let groupBy: [String]
    /// alias → (rule reference → field).
    let aliases: [String: [String: String]]
    public let timespan: Duration
    public let condition: Condition
    /// value_count: the field whose distinct values are counted.
    public let valueField: String?
    /// When false (the default), the correlated rules raise no alerts of their own.
    public let generate: Bool

    /// The group-by key of an event matched by the rule `ruleID`, with aliases applied.
    /// A missing field counts as the empty value, so such events still group together.
    func groupValues(for event: Event, ruleID: String) -> [String] {
        groupBy.map { event.value(of: FieldKey(fieldName($0, for: ruleID))) ?? "" }
    }

    /// The event field that group-by field `field` reads in detections of `ruleID` (its alias there, if any).
    func fieldName(_ field: String, for ruleID: String) -> String {
        let reference = references[ruleIDs.firstIndex(of: ruleID) ?? 0]
        return aliases[field]?[reference] ?? aliases[field]?[ruleID] ?? field
    }
}

extension RuleCompiler {
    /// Compiles a correlation document; `rules` resolves names and ids of the rules it refers to.
    func compileCorrelation(_ document: SigmaRuleDocument, resolve: (String) -> String?) throws(DetectionError) -> CorrelationRule {
        let body = document.body
        let located = { (message: String) in DetectionError(.badRule, message, file: document.file, line: document.line) }
        guard let title = body["title"]?.string else { throw located("the correlation rule has no title") }
        guard let section = body["correlation"] else { throw located("the correlation rule has no 'correlation' section") }
        guard let typeName = section["type"]?.string, let kind = CorrelationRule.Kind(rawValue: typeName) else {
            throw located("correlation type must be event_count, value_count, temporal or temporal_ordered")
        }
        let references = section["rules"]?.strings ?? []
        guard !references.isEmpty else { throw located("the correlation names no rules") }
        var ruleIDs: [String] = []
        for reference in references {
            guard let id = resolve(reference) else { throw located("the correlation refers to '\(reference)', which is not a loaded rule's id or name") }
            ruleIDs.append(id)
        }
        guard let timespanText = section["timespan"]?.string, let timespan = Self.timespan(timespanText) else {
            throw located("the correlation needs a timespan such as 30s, 5m, 1h or 1d")
        }
        let groupBy = section["group-by"]?.strings ?? []
        var aliases: [String: [String: String]] = [:]
        if case .mapping(let pairs, _)? = section["aliases"] {
            for (alias, mapping) in pairs {
                guard case .mapping(let fields, _) = mapping else { throw located("alias '\(alias)' must map rule names to fields") }
                aliases[alias] = Dictionary(fields.compactMap { pair in pair.value.string.map { (pair.key, $0) } }, uniquingKeysWith: { $1 })
            }
        }
        var condition = CorrelationRule.Condition()
        var valueField: String?
        if case .mapping(let pairs, _)? = section["condition"] {
            for (key, value) in pairs {
                if key == "field" { valueField = value.string; continue }
                guard let number = value.string.flatMap(Double.init) else { throw located("condition '\(key)' needs a number") }
                switch key {
                case "gt": condition.gt = number
                case "gte": condition.gte = number
                case "lt": condition.lt = number
                case "lte": condition.lte = number
                case "eq": condition.eq = number
                case "neq": condition.neq = number
                default: throw located("unknown condition '\(key)'; use gt, gte, lt, lte, eq, neq (and field for value_count)")
                }
            }
        } else if kind == .eventCount || kind == .valueCount {
            throw located("\(kind.rawValue) needs a condition such as {gte: 10}")
        } else {
            condition.gte = Double(references.count)  // temporal: all the rules
        }
        if kind == .valueCount, valueField == nil { throw located("value_count needs condition.field") }
        let levelName = body["level"]?.string ?? "medium"
        guard let severity = Severity(name: levelName) else { throw located("unknown level '\(levelName)'") }
        let info = RuleInfo(
            id: document.id ?? "correlation:\(title)", title: title, severity: severity, status: body["status"]?.string ?? "",
            author: body["author"]?.string ?? "", tags: body["tags"]?.strings ?? [], references: body["references"]?.strings ?? [],
            logSource: LogSource(), file: document.file, dedupeFields: groupBy.map(FieldKey.init),
            description: body["description"]?.string ?? "")
        return CorrelationRule(
            info: info, name: document.name, kind: kind, ruleIDs: ruleIDs, references: references, groupBy: groupBy, aliases: aliases,
            timespan: timespan, condition: condition, valueField: valueField,
            generate: (body["generate"]?.string ?? section["generate"]?.string).map { $0.lowercased() == "true" } ?? false)
    }

    /// `30s`, `5m`, `1h`, `1d`.
    static func timespan(_ text: String) -> Duration? {
        guard let unit = text.last, let amount = Int64(text.dropLast()), amount > 0 else { return nil }
        switch unit {
        case "s": return .seconds(amount)
        case "m": return .seconds(amount * 60)
        case "h": return .seconds(amount * 3600)
        case "d": return .seconds(amount * 86_400)
        default: return nil
        }
    }
}
