import Foundation
import VigilModel

/// Compiles parsed Sigma documents into `CompiledRule`s: every modifier of the
/// specification, conditions, and filters applied as exclusions.
struct RuleCompiler {
    /// Values for the `expand` modifier's `%placeholder%`s.
    var placeholders: [String: [String]] = [:]

    func compile(_ document: SigmaRuleDocument, filters: [SigmaFilterDocument]) throws(DetectionError) -> CompiledRule {
        let body = document.body
        guard let title = body["title"]?.string, !title.isEmpty else {
            throw DetectionError(.badRule, "the rule has no title", file: document.file, line: document.line)
        }
        guard let detection = body["detection"], case .mapping(let items, _) = detection else {
            throw DetectionError(.badRule, "the rule has no 'detection' mapping", file: document.file, line: document.line)
        }
        let levelName = body["level"]?.string ?? "medium"
        guard let severity = Severity(name: levelName) else {
            throw DetectionError(.badRule, "unknown level '\(levelName)'; use informational, low, medium, high or critical", file: document.file, line: body["level"]?.line)
        }
        guard case .mapping? = body["logsource"] else {
            throw DetectionError(.badRule, "the rule has no 'logsource'; name its product, category or service", file: document.file, line: document.line)
        }
        let logSource = Self.logSource(body["logsource"])
        var (node, selections) = try compileDetection(items, file: document.file, line: detection.line)

        for filter in filters where filter.ruleReferences.contains(where: { $0 == document.id || $0 == document.name }) {
            guard let filterItems = filter.body["filter"], case .mapping(let pairs, _) = filterItems else { continue }
            let (filterNode, _) = try compileDetection(pairs.filter { $0.key != "rules" }, file: filter.file, line: filter.line)
            node = .and([node, .not(filterNode)])
        }

        let id = document.id ?? "\(URL(fileURLWithPath: document.file).deletingPathExtension().lastPathComponent):\(document.line)"
        let dedupeFields = (body["vigil-dedupe-by"]?.strings ?? []).map(FieldKey.init)
        let info = RuleInfo(
            id: id, title: title, severity: severity, status: body["status"]?.string ?? "",
            author: body["author"]?.string ?? "", tags: body["tags"]?.strings ?? [],
            references: body["references"]?.strings ?? [], logSource: logSource, file: document.file,
            dedupeFields: dedupeFields, description: body["description"]?.string ?? ""
        )
        var keys: [FieldKey] = []
        for key in node.fieldKeys where !keys.contains(key) { keys.append(key) }
        let tests = body["vigil-tests"]
        let testEvents = (
            match: Self.testLines(tests?["match"]),
            noMatch: Self.testLines(tests?["nomatch"])
        )
        let vendorWords = VendorWords(titles: body["vigil-title-from"]?.strings ?? [], severityField: body["vigil-level-from"]?.string)
        return CompiledRule(info: info, name: document.name, node: node, selections: selections, fieldKeys: keys, testEvents: testEvents,
                            vendorWords: vendorWords)
    }

    private static func testLines(_ value: YAMLValue?) -> [String] {
        guard case .sequence(let items, _)? = value else { return [] }
        return items.map(\.jsonText)
    }

    static func logSource(_ value: YAMLValue?) -> LogSource {
        LogSource(product: value?["product"]?.string, category: value?["category"]?.string, service: value?["service"]?.string)
    }

    /// Compiles a detection mapping: its selections, then its condition over them.
    func compileDetection(_ items: [(key: String, value: YAMLValue)], file: String, line: Int) throws(DetectionError)
        -> (MatchNode, [(name: String, node: MatchNode)])
    {
        var selections: [(name: String, node: MatchNode)] = []
        var conditionValue: YAMLValue?
        for (name, value) in items {
            switch name {
            case "condition": conditionValue = value
            case "timeframe":
                throw DetectionError(.unsupported, "'timeframe' in a detection is deprecated Sigma v1 syntax; use a correlation rule", file: file, line: value.line)
            default:
                do {
                    selections.append((name: name, node: try compileSelection(value)))
                } catch {
                    throw error.located(file: file, line: value.line)
                }
            }
        }
        guard let conditionValue else {
            throw DetectionError(.badRule, "the detection has no 'condition'", file: file, line: line)
        }
        let conditionTexts = conditionValue.strings
        guard !conditionTexts.isEmpty else {
            throw DetectionError(.badCondition, "the condition is empty", file: file, line: conditionValue.line)
        }
        var nodes: [MatchNode] = []
        for text in conditionTexts {
            do {
                nodes.append(try resolve(SigmaCondition.parse(text), selections: selections))
            } catch {
                throw error.located(file: file, line: conditionValue.line)
            }
        }
        return (nodes.count == 1 ? nodes[0] : .or(nodes), selections)
    }

    private func resolve(_ condition: SigmaCondition, selections: [(name: String, node: MatchNode)]) throws(DetectionError) -> MatchNode {
        switch condition {
        case .selection(let name):
            guard let selection = selections.first(where: { $0.name == name }) else {
                throw DetectionError(.badCondition, "the condition names '\(name)', which is not a selection of this rule")
            }
            return selection.node
        case .and(let left, let right):
            return .and([try resolve(left, selections: selections), try resolve(right, selections: selections)])
        case .or(let left, let right):
            return .or([try resolve(left, selections: selections), try resolve(right, selections: selections)])
        case .not(let inner):
            return .not(try resolve(inner, selections: selections))
        case .quantified(let quantifier, let pattern):
            let matching: [MatchNode]
            if let pattern {
                let glob = TextPattern(SigmaString(parsing: pattern), caseSensitive: true)
                matching = selections.filter { glob.matches($0.name) }.map(\.node)
                guard !matching.isEmpty else {
                    throw DetectionError(.badCondition, "'\(pattern)' in the condition matches no selection")
                }
            } else {
                matching = selections.filter { !$0.name.hasPrefix("_") }.map(\.node)
            }
            switch quantifier {
            case .all: return .and(matching)
            case .atLeast(1): return .or(matching)
            case .atLeast(let count): return .atLeast(count, matching)
            }
        }
    }

    /// A selection: a mapping is AND over its fields, a list is OR over its items, and plain
    /// values are keyword searches over the raw record.
    func compileSelection(_ value: YAMLValue) throws(DetectionError) -> MatchNode {
        switch value {
        case .mapping(let pairs, _):
            var nodes: [MatchNode] = []
            for (key, item) in pairs {
                do {
                    nodes.append(try compileItem(fieldSpec: key, value: item))
                } catch {
                    throw error.located(file: nil, line: item.line)
                }
            }
            return nodes.count == 1 ? nodes[0] : .and(nodes)
        case .sequence(let items, _):
            if items.allSatisfy({ if case .scalar = $0 { true } else { false } }) {
                return try compileItem(fieldSpec: "", value: value)
            }
            var nodes: [MatchNode] = []
            for item in items { nodes.append(try compileSelection(item)) }
            return .or(nodes)
        case .scalar:
            return try compileItem(fieldSpec: "", value: value)
        }
    }
}
