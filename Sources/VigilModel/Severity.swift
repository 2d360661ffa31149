/// Alert and rule severity, ordered from least to most severe (Sigma's `level`).
public enum Severity: Int, Sendable, Comparable, CaseIterable, Codable {
    case informational = 0, low, medium, high, critical

    /// The lowercase name used in rules, the CLI and JSON (`"high"`).
    public var name: String {
        switch self {
        case .informational: "informational"
        case .low: "low"
        case .medium: "medium"
        case .high: "high"
        case .critical: "critical"
        }
    }

    /// Parses a Sigma level or a CLI value; accepts `info` as a short form.
    public init?(name: String) {
        switch name.lowercased() {
        case "informational", "info": self = .informational
        case "low": self = .low
        case "medium": self = .medium
        case "high": self = .high
        case "critical": self = .critical
        default: return nil
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
}
