import VigilModel
import Yams

/// A YAML node reduced to what Sigma needs, with the line it starts on.
indirect enum YAMLValue {
    case scalar(String, isNull: Bool, line: Int)
    case sequence([YAMLValue], line: Int)
    case mapping([(key: String, value: YAMLValue)], line: Int)

    init(_ node: Node) {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let scalar):
            let isNull = scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
            self = .scalar(scalar.string, isNull: isNull, line: line)
        case .sequence(let sequence):
            self = .sequence(sequence.map(YAMLValue.init), line: line)
        case .mapping(let mapping):
            self = .mapping(mapping.map { (key: $0.key.string ?? "", value: YAMLValue($0.value)) }, line: line)
        case .alias:
            self = .scalar("", isNull: true, line: line)
        }
    }

    var line: Int {
        switch self {
        case .scalar(_, _, let line), .sequence(_, let line), .mapping(_, let line): line
        }
    }

    subscript(key: String) -> YAMLValue? {
        guard case .mapping(let pairs, _) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    var string: String? {
        if case .scalar(let text, let isNull, _) = self, !isNull { return text }
        return nil
    }

    /// A scalar as a one-element list, a sequence's scalars as strings.
    var strings: [String] {
        switch self {
        case .scalar(let text, let isNull, _): isNull ? [] : [text]
        case .sequence(let items, _): items.compactMap(\.string)
        case .mapping: []
        }
    }

    /// Deep merge for `action: global` and `repeat`: mappings merge key by key, `other` wins otherwise.
    func merged(with other: YAMLValue) -> YAMLValue {
        guard case .mapping(var pairs, let line) = self, case .mapping(let otherPairs, _) = other else { return other }
        for (key, value) in otherPairs {
            if let index = pairs.firstIndex(where: { $0.key == key }) {
                pairs[index].value = pairs[index].value.merged(with: value)
            } else {
                pairs.append((key: key, value: value))
            }
        }
        return .mapping(pairs, line: line)
    }

    /// The value as JSON text, every scalar a string (used for rule test events).
    var jsonText: String {
        switch self {
        case .scalar(let text, let isNull, _): isNull ? "null" : JSONText.quoted(text)
        case .sequence(let items, _): "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .mapping(let pairs, _):
            "{" + pairs.map { JSONText.quoted($0.key) + ":" + $0.value.jsonText }.joined(separator: ",") + "}"
        }
    }
}
