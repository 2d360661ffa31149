/// Matches a machine's reported OS against the compatibility list.
public enum Compatibility {
    /// Spellings sensors use for each distribution named in the list.
    static let aliases: [String: [String]] = [
        "rhel": ["rhel", "red hat"], "amazon": ["amazon", "amzn"], "sles": ["sles", "suse"],
        "almalinux": ["almalinux", "alma"], "rocky": ["rocky"],
    ]

    /// True when `version` on `platform` matches a list entry: Linux by distribution and
    /// version prefix (`Ubuntu 22.04.4` matches ubuntu 22.04); other platforms by version
    /// prefix (`17.5` matches 17).
    public static func isSupported(platform: String, version: String, list: [CompatibilityRow]) -> Bool {
        let lowered = version.lowercased()
        guard let number = lowered.split(separator: " ").first(where: { $0.first?.isNumber == true }).map(String.init) else { return false }
        return list.contains { entry in
            guard entry.platform == platform else { return false }
            if !entry.distribution.isEmpty {
                let names = aliases[entry.distribution] ?? [entry.distribution]
                guard names.contains(where: { lowered.contains($0) }) else { return false }
            }
            return number == entry.version || number.hasPrefix(entry.version + ".")
        }
    }
}
