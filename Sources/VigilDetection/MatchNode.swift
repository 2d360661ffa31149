import VigilModel

/// A compiled detection: a tree of boolean operators over field and keyword tests.
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

    func matches(_ event: Event) -> Bool {
        switch self {
        case .and(let nodes):
            for index in nodes.indices where !nodes[index].matches(event) { return false }
            return true
        case .or(let nodes):
            for index in nodes.indices where nodes[index].matches(event) { return true }
            return false
        case .not(let node):
            return !node.matches(event)
        case .atLeast(let count, let nodes):
            var matched = 0
            for node in nodes where node.matches(event) {
                matched += 1
                if matched >= count { return true }
            }
            return false
        case .field(let test):
            return test.matches(event)
        case .keywords(let tests, let requireAll):
            if requireAll { return tests.allSatisfy { $0.matches(event.raw, in: event) } }
            return tests.contains { $0.matches(event.raw, in: event) }
        case .constant(let value):
            return value
        }
    }

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

    func matches(_ event: Event) -> Bool {
        // Index loops: reading `fields[index].key` does not copy (and retain) the value string.
        event.fields.withUnsafeBufferPointer { fields in
            switch presence {
            case .mustBeAbsent:
                for index in fields.indices where fields[index].key == key { return false }
                return true
            case .mustBePresent:
                for index in fields.indices where fields[index].key == key { return true }
                return false
            case .values:
                if requireAll {
                    for test in tests {
                        var matched = false
                        for index in fields.indices where fields[index].key == key && test.matches(fields[index].value, in: event) {
                            matched = true
                            break
                        }
                        if !matched { return false }
                    }
                    return true
                }
                for index in fields.indices where fields[index].key == key {
                    for test in tests where test.matches(fields[index].value, in: event) { return true }
                }
                return false
            }
        }
    }
}
