import Foundation
import VigilDetection
import VigilIngest
import VigilModel

/// One event from a generic-JSON object.
func event(_ json: String) -> Event {
    var parser = JSONEventParser(context: ParserContext(integration: "test"))
    var events: [Event] = []
    if let rejected = parser.parse(RawRecord(line: 1, text: json), into: &events) {
        fatalError("bad test event \(json): \(rejected.reason)")
    }
    return events[0]
}

/// Compiles `yaml` (one or more Sigma documents) and returns the rules, failing on any error.
func compile(_ yaml: String) throws -> RuleSet {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-rule-\(UUID().uuidString).yml").path
    try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let loaded = RuleSet.load(paths: [path])
    if let error = loaded.errors.first ?? loaded.entries.compactMap(\.error).first { throw error }
    return loaded.ruleSet
}

/// Titles of the rules in `ruleSet` that match `event`.
func matchingTitles(_ ruleSet: RuleSet, _ event: Event) -> [String] {
    var detector = Detector(ruleSet: ruleSet)
    var detections: [Detection] = []
    detector.detect(event, into: &detections)
    return detections.map(\.rule.title)
}

/// A one-selection rule over any logsource.
func rule(_ selection: String, condition: String = "selection") -> String {
    """
    title: test
    logsource:
        product: test
    detection:
    \(selection.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
        condition: \(condition)
    """
}

/// Whether the one-rule `yaml` matches the event `json` (product `test` is added).
func matches(_ yaml: String, _ json: String) throws -> Bool {
    var object = json
    object.removeLast()
    let withSource = object + (object.count > 1 ? "," : "") + #""logsource":{"product":"test"}}"#
    return try !matchingTitles(compile(yaml), event(withSource)).isEmpty
}

let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus").standardized.path
