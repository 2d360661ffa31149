import CSQLite
import VigilModel

/// What `vigil check` found: each finding says what is wrong and where.
public struct CheckReport: Sendable {
    /// Findings that mean the database is damaged or inconsistent.
    public var problems: [String] = []
    /// Totals that were cross-checked.
    public var events = 0
    public var alerts = 0
    public var imports = 0

    public var isHealthy: Bool { problems.isEmpty }

    package init() {}
}
