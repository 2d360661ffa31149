import VigilModel
import Yams

/// A Sigma detection rule as read from YAML, before compilation.
struct SigmaRuleDocument {
    var body: YAMLValue
    var file: String
    var line: Int

    var id: String? { body["id"]?.string }
    var name: String? { body["name"]?.string }
    var title: String { body["title"]?.string ?? "" }
}

/// A Sigma filter (the filters specification): a detection applied as an exclusion to the
/// rules it names.
struct SigmaFilterDocument {
    var body: YAMLValue
    var file: String
    var line: Int
    var ruleReferences: [String] { body["filter"]?["rules"]?.strings ?? [] }
}

/// Splits YAML files into rule, filter and correlation documents, applying the
/// specification's collection actions (`global`, `reset`, `repeat`).
enum SigmaDocumentReader {
    struct Output {
        var rules: [SigmaRuleDocument] = []
        var filters: [SigmaFilterDocument] = []
        var correlations: [SigmaRuleDocument] = []
        var errors: [DetectionError] = []
    }

    static func read(yaml text: String, file: String, into output: inout Output) {
        var global: YAMLValue?
        var previous: YAMLValue?
        do {
            // Not `compose_all`: its sequence ends quietly at a syntax error, hiding broken rules.
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() {
                let document = YAMLValue(node)
                guard case .mapping = document else {
                    output.errors.append(DetectionError(.badRule, "a Sigma document must be a YAML mapping", file: file, line: document.line))
                    continue
                }
                var body = document
                switch document["action"]?.string {
                case "global":
                    global = document.removing("action")
                    continue
                case "reset":
                    global = nil
                    continue
                case "repeat":
                    guard let previous else {
                        output.errors.append(DetectionError(.badRule, "'action: repeat' has no previous document to repeat", file: file, line: document.line))
                        continue
                    }
                    body = previous.merged(with: document.removing("action"))
                case nil:
                    if let global { body = global.merged(with: document) }
                case let other?:
                    output.errors.append(DetectionError(.badRule, "unknown collection action '\(other)'; use global, reset or repeat", file: file, line: document.line))
                    continue
                }
                previous = body
                if body["correlation"] != nil {
                    output.correlations.append(SigmaRuleDocument(body: body, file: file, line: document.line))
                } else if body["filter"] != nil {
                    output.filters.append(SigmaFilterDocument(body: body, file: file, line: document.line))
                } else {
                    output.rules.append(SigmaRuleDocument(body: body, file: file, line: document.line))
                }
            }
        } catch let error as YamlError {
            output.errors.append(DetectionError(.badYAML, "invalid YAML: \(Self.describe(error))", file: file, line: Self.line(of: error)))
        } catch {
            output.errors.append(DetectionError(.badYAML, "invalid YAML: \(error)", file: file))
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        default: "\(error)"
        }
    }
}

extension YAMLValue {
    func removing(_ key: String) -> YAMLValue {
        guard case .mapping(let pairs, let line) = self else { return self }
        return .mapping(pairs.filter { $0.key != key }, line: line)
    }
}
