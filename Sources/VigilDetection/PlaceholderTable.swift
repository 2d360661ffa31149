import Yams

/// The values of `%placeholder%`s for the Sigma `expand` modifier, read from YAML:
///
/// ```yaml
/// admin_users: [root, admin]
/// web_roots: /var/www
/// ```
public enum PlaceholderTable {
    public static func parse(yaml text: String) throws -> [String: [String]] {
        guard let node = try Yams.compose(yaml: text) else { return [:] }
        guard case .mapping = YAMLValue(node) else {
            throw DetectionError(.badValue, "the placeholder table must be a map of name to a value or list of values")
        }
        guard case .mapping(let pairs, _) = YAMLValue(node) else { return [:] }
        var table: [String: [String]] = [:]
        for (name, value) in pairs { table[name] = value.strings }
        return table
    }
}
