import Foundation
import VigilModel

/// A compiled detection: a tree of boolean operators over field and keyword tests. The tree
/// is what the compiler builds and the prefilter analyses; `MatchProgram` evaluates it.
indirect enum MatchNode: Sendable {
    case and([MatchNode])
    case or([MatchNode])
    case not(MatchNode)
    /// At least `count` of the nodes match (`1 of`, `all of`, `N of`).
    case atLeast(Int, [MatchNode])
    case field(FieldTest)
    /// Value-only search over the raw record.
    case keywords([ValueTest], requireAll: Bool)
    case constant(Bool)

    /// Every field this node reads, for reporting matched fields.
    var fieldKeys: [FieldKey] {
        switch self {
        case .and(let nodes), .or(let nodes), .atLeast(_, let nodes): nodes.flatMap(\.fieldKeys)
        case .not(let node): node.fieldKeys
        case .field(let test): [test.key]
        case .keywords, .constant: []
        }
    }
}

/// The tests on one field of one detection item.
struct FieldTest: Sendable {
    enum Presence: Sendable, Equatable {
        /// Match the values against `tests`.
        case values
        /// `null`, or `exists: false`: the field must be absent.
        case mustBeAbsent
        /// `exists: true`: the field must be present.
        case mustBePresent
    }

    let key: FieldKey
    let tests: [ValueTest]
    let presence: Presence
    /// `all` modifier: every test must match some occurrence; otherwise any test suffices.
    let requireAll: Bool
}

/// Match trees flattened into memory of their own: nodes are plain values that refer to
/// their children and tests by position, so evaluating a rule copies nothing and counts no
/// references, even while several threads evaluate the same rules. Immutable once built.
final class MatchProgram: @unchecked Sendable {
    // Safety: every stored property is written only in `init`; afterwards threads only read.
    private struct Node {
        enum Kind: UInt8 { case and, or, not, atLeast, field, keywords, constant }
        var kind: Kind
        /// `requireAll` for field and keyword tests; the value of a constant.
        var flag = false
        var presence = FieldTest.Presence.values
        /// The field's `FieldKey.rawValue`.
        var key: UInt32 = 0
        /// How many children must match, for `atLeast`.
        var count = 0
        /// The first child in `children`, or the first test in `tests`.
        var start = 0
        var length = 0
    }

    /// A test in a box of its own. Evaluation reaches it through an unmanaged reference and
    /// reads it in place; a test copied out of shared memory would retain its arrays.
    private final class TestBox {
        let test: ValueTest
        init(_ test: ValueTest) { self.test = test }
    }

    /// Owns the buffers below.
    private var arena = UnsafeBufferArena()
    private let nodes: UnsafeMutableBufferPointer<Node>
    private let children: UnsafeMutableBufferPointer<Int>
    /// Owns the boxes `tests` refers to.
    private let boxes: [TestBox]
    private let tests: UnsafeMutableBufferPointer<Unmanaged<TestBox>>
    /// The position of each tree passed to `init`, to pass to `matches(_:_:)`.
    let roots: [Int]

    init(trees: [MatchNode]) {
        var builder = Builder()
        roots = trees.map { builder.add($0) }
        nodes = arena.copy(builder.nodes)
        children = arena.copy(builder.children)
        boxes = builder.tests.map(TestBox.init)
        tests = arena.copy(boxes.map { Unmanaged.passUnretained($0) })
    }

    /// True when the tree at `position` (one of `roots`) matches `event`.
    func matches(_ position: Int, _ event: Event) -> Bool {
        let node = nodes[position]
        let range = node.start..<node.start + node.length
        switch node.kind {
        case .and:
            for child in range where !matches(children[child], event) { return false }
            return true
        case .or:
            for child in range where matches(children[child], event) { return true }
            return false
        case .not:
            return !matches(children[node.start], event)
        case .atLeast:
            var matched = 0
            for child in range where matches(children[child], event) {
                matched += 1
                if matched >= node.count { return true }
            }
            return false
        case .field:
            return event.fields.withUnsafeBufferPointer { fieldMatches(node, $0, event) }
        case .keywords:
            // A JSON record's escapes (`\\`, `\"`, `\u00e9`, `\/`) are decoded in its field values,
            // and a keyword is written plainly: search those too.
            let searchesFields = event.rawHasJSONEscapes
            func found(_ test: Int) -> Bool {
                if matches(test, event.raw, event) { return true }
                guard searchesFields else { return false }
                for field in event.fields where matches(test, field.value, event) { return true }
                return false
            }
            if node.flag {
                for test in range where !found(test) { return false }
                return true
            }
            for test in range where found(test) { return true }
            return false
        case .constant:
            return node.flag
        }
    }

    private func fieldMatches(_ node: Node, _ fields: UnsafeBufferPointer<EventField>, _ event: Event) -> Bool {
        let key = node.key
        switch node.presence {
        case .mustBeAbsent:
            for index in fields.indices where fields[index].key.rawValue == key { return false }
            return true
        case .mustBePresent:
            for index in fields.indices where fields[index].key.rawValue == key { return true }
            return false
        case .values:
            let range = node.start..<node.start + node.length
            if node.flag {
                for test in range {
                    var matched = false
                    for index in fields.indices where fields[index].key.rawValue == key && matches(test, fields[index].value, event) {
                        matched = true
                        break
                    }
                    if !matched { return false }
                }
                return true
            }
            for index in fields.indices where fields[index].key.rawValue == key {
                for test in range where matches(test, fields[index].value, event) { return true }
            }
            return false
        }
    }

    @inline(__always)
    private func matches(_ test: Int, _ value: String, _ event: Event) -> Bool {
        tests[test]._withUnsafeGuaranteedRef { $0.test.matches(value, in: event) }
    }

    private struct Builder {
        var nodes: [Node] = []
        var children: [Int] = []
        var tests: [ValueTest] = []

        /// Appends `tree`'s nodes, children first, and returns its position.
        mutating func add(_ tree: MatchNode) -> Int {
            switch tree {
            case .and(let subtrees): return addBranch(.and, subtrees)
            case .or(let subtrees): return addBranch(.or, subtrees)
            case .atLeast(let count, let subtrees): return addBranch(.atLeast, subtrees, count: count)
            case .not(let subtree): return addBranch(.not, [subtree])
            case .field(let test):
                let node = Node(kind: .field, flag: test.requireAll, presence: test.presence, key: test.key.rawValue, start: tests.count, length: test.tests.count)
                tests += test.tests
                return append(node)
            case .keywords(let keywordTests, let requireAll):
                let node = Node(kind: .keywords, flag: requireAll, start: tests.count, length: keywordTests.count)
                tests += keywordTests
                return append(node)
            case .constant(let value):
                return append(Node(kind: .constant, flag: value))
            }
        }

        private mutating func addBranch(_ kind: Node.Kind, _ subtrees: [MatchNode], count: Int = 0) -> Int {
            let positions = subtrees.map { add($0) }
            let node = Node(kind: kind, count: count, start: children.count, length: positions.count)
            children += positions
            return append(node)
        }

        private mutating func append(_ node: Node) -> Int {
            nodes.append(node)
            return nodes.count - 1
        }
    }
}

extension Event {
    /// True when the raw record is JSON holding escapes, so its decoded text is in its field
    /// values rather than in `raw`: keyword searches then look at both.
    var rawHasJSONEscapes: Bool {
        guard let first = raw.utf8.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return false }
        // `memchr` over the contiguous bytes (not empty: it has a first): the generic `contains` walked the view a byte at a time.
        return raw.utf8.withContiguousStorageIfAvailable { memchr($0.baseAddress!, Int32(UInt8(ascii: "\\")), $0.count) != nil }
            ?? raw.utf8.contains(UInt8(ascii: "\\"))
    }
}
