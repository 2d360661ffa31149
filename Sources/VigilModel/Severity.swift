import Foundation

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

    /// A vendor's severity on Vigil's scale (the README's table): CEF's 0-10 (0-3 low, 4-6
    /// medium, 7-8 high, 9-10 critical), or a word (`info`, `minor`, `moderate`, `warning`,
    /// `major`, `severe`, `very-high`, `emergency` and Sigma's own levels). Nil when unknown.
    public init?(vendor text: String) {
        let word = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let number = Int(word) {
            switch number {
            case 0...3: self = .low
            case 4...6: self = .medium
            case 7...8: self = .high
            case 9...10: self = .critical
            default: return nil
            }
            return
        }
        switch word {
        case "informational", "info", "information", "notice": self = .informational
        case "low", "minor": self = .low
        case "medium", "moderate", "warning", "warn": self = .medium
        case "high", "major", "severe", "error": self = .high
        case "critical", "very-high", "very high", "veryhigh", "emergency", "alert": self = .critical
        default: return nil
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
}
