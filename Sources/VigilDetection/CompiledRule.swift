import VigilModel

/// A Sigma rule compiled to a match tree over interned field keys. A class, so the detector
/// hands rules around by reference instead of copying their many fields per event.
public final class CompiledRule: Sendable {
    public let info: RuleInfo
    /// Sigma `name`, by which correlation rules may refer to it.
    public let name: String?
    let node: MatchNode
    /// Each named selection compiled alone, to explain a match (`vigil rules test`).
    let selections: [(name: String, node: MatchNode)]
    /// `node` and the selections, flattened for evaluation, and their positions in it.
    private let program: MatchProgram
    private let root: Int
    private let selectionRoots: [Int]
    /// Fields the rule reads, reported as the alert's matched fields.
    let fieldKeys: [FieldKey]
    /// Match and non-match test events written beside the rule (`vigil-tests`), as JSON lines.
    public let testEvents: (match: [String], noMatch: [String])

    init(info: RuleInfo, name: String?, node: MatchNode, selections: [(name: String, node: MatchNode)], fieldKeys: [FieldKey],
         testEvents: (match: [String], noMatch: [String])) {
        self.info = info
        self.name = name
        self.node = node
        self.selections = selections
        self.fieldKeys = fieldKeys
        self.testEvents = testEvents
        program = MatchProgram(trees: [node] + selections.map(\.node))
        root = program.roots[0]
        selectionRoots = Array(program.roots.dropFirst())
    }

    /// True when the rule matches `event` (logsource is checked by the caller's index).
    public func matches(_ event: Event) -> Bool { program.matches(root, event) }

    /// The names of the selections that match `event`.
    public func matchingSelections(_ event: Event) -> [String] {
        zip(selections, selectionRoots).filter { program.matches($1, event) }.map(\.0.name)
    }

    /// The detection for a matching `event`, with the values of the fields the rule reads.
    public func detection(for event: Event) -> Detection {
        var matched: [EventField] = []
        for field in event.fields where fieldKeys.contains(field.key) { matched.append(field) }
        return Detection(rule: info, matchedFields: matched)
    }
}
