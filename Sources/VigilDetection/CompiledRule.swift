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
    /// How a vendor finding names and rates its alert (`vigil-title-from`, `vigil-level-from`).
    let vendorWords: VendorWords

    init(info: RuleInfo, name: String?, node: MatchNode, selections: [(name: String, node: MatchNode)], fieldKeys: [FieldKey],
         testEvents: (match: [String], noMatch: [String]), vendorWords: VendorWords = VendorWords()) {
        self.info = info
        self.vendorWords = vendorWords
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

    /// The detection for a matching `event`, with the values of the fields the rule reads, and
    /// the vendor's title and severity when the rule takes them from the event.
    public func detection(for event: Event) -> Detection {
        var matched: [EventField] = []
        for field in event.fields where fieldKeys.contains(field.key) || vendorWords.fieldKeys.contains(field.key) { matched.append(field) }
        return Detection(rule: info, matchedFields: matched, title: vendorWords.title(for: event), severity: vendorWords.severity(for: event))
    }
}

/// A rule's `vigil-title-from` (title templates such as `'{vendor_title}'` or
/// `'Antivirus detection: {threat_name}'`; the first whose fields the event has, non-empty,
/// names the alert, cut to `titleLimit` characters since the data writes it) and
/// `vigil-level-from` (a field holding the vendor's severity, mapped with `Severity(vendor:)`;
/// the rule's level when absent or unknown).
struct VendorWords: Sendable {
    /// The longest title the data can give an alert.
    static let titleLimit = 200

    /// Each template as literal text and field pieces.
    let titles: [[TemplatePiece]]
    let severityField: FieldKey?

    enum TemplatePiece: Sendable, Equatable {
        case text(String)
        case field(FieldKey)
    }

    /// The fields the templates and the severity read, kept with the alert's matched fields.
    let fieldKeys: [FieldKey]

    init(titles: [String] = [], severityField: String? = nil) {
        self.titles = titles.map(Self.pieces)
        self.severityField = severityField.map(FieldKey.init)
        fieldKeys = self.titles.flatMap { $0.compactMap { if case .field(let key) = $0 { key } else { nil } } }
            + (self.severityField.map { [$0] } ?? [])
    }

    func title(for event: Event) -> String? {
        for template in titles {
            var title = ""
            var complete = true
            for piece in template {
                switch piece {
                case .text(let text): title += text
                case .field(let key):
                    guard let value = event.value(of: key), !value.isEmpty else { complete = false; break }
                    title += value
                }
                if !complete { break }
            }
            if complete { return title.count > Self.titleLimit ? String(title.prefix(Self.titleLimit - 1)) + "…" : title }
        }
        return nil
    }

    func severity(for event: Event) -> Severity? {
        severityField.flatMap { event.value(of: $0) }.flatMap(Severity.init(vendor:))
    }

    /// `'{vendor_title} ({threat_name})'` → text and field pieces.
    static func pieces(_ template: String) -> [TemplatePiece] {
        var pieces: [TemplatePiece] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            if open > rest.startIndex { pieces.append(.text(String(rest[..<open]))) }
            pieces.append(.field(FieldKey(String(rest[rest.index(after: open)..<close]))))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        return pieces
    }
}
