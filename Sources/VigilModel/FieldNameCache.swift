/// Field names by key, filled from the global table on first use, so code that names many
/// fields (a parser naming every field of every record) does not take the global lock per
/// field. Not `Sendable`: give each thread its own.
public struct FieldNameCache {
    private var names: [String?] = []

    public init() {}

    public mutating func name(of key: FieldKey) -> String {
        let index = Int(key.rawValue)
        if index < names.count, let name = names[index] { return name }
        if index >= names.count { names += Array(repeating: nil, count: index - names.count + 1) }
        let name = key.name
        names[index] = name
        return name
    }
}
