import VigilModel

/// A parser's mapping from source field names to the names Sigma rules use, kept as data.
///
/// `apply` appends a target field for every source field present; the source fields stay,
/// so rules written against either name match.
public struct FieldMap: Sendable {
    /// (source name, Sigma name) pairs, in priority order for the same target.
    public let pairs: [(source: String, target: String)]
    private let keys: [(source: FieldKey, target: FieldKey)]

    public init(_ pairs: [(String, String)]) {
        self.pairs = pairs.map { (source: $0.0, target: $0.1) }
        self.keys = pairs.map { (FieldKey($0.0), FieldKey($0.1)) }
    }

    /// Appends the mapped fields; a target already set (by the source or an earlier pair) is not set again.
    public func apply(to fields: inout [EventField], joiningLists: Bool = true) {
        // Which keys may be present, one bit per key modulo 64: most pairs' source names are
        // absent from a record, and the bit says so without a scan of its fields.
        var mayBePresent: UInt64 = 0
        for field in fields { mayBePresent |= Self.bit(field.key) }
        var filled: [FieldKey] = []
        for (source, target) in keys {
            guard mayBePresent & Self.bit(source) != 0, let first = fields.firstIndex(where: { $0.key == source }) else { continue }
            if filled.contains(target) || fields.contains(where: { $0.key == target }) { continue }
            filled.append(target)
            var value = fields[first].value
            var index = first + 1
            let end = fields.count
            while index < end {
                if fields[index].key == source {
                    if joiningLists { value += " " + fields[index].value } else { fields.append(EventField(target, fields[index].value)) }
                }
                index += 1
            }
            fields.append(EventField(target, value))
            mayBePresent |= Self.bit(target)
        }
    }

    private static func bit(_ key: FieldKey) -> UInt64 { 1 << UInt64(key.rawValue & 63) }
}
