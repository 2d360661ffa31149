import VigilModel

/// Alert counts per day and severity, for the dashboard's chart.
public struct AlertTrendPoint: Sendable, Equatable {
    /// Midnight UTC of the day, in microseconds.
    public var day: Int64
    public var severity: Severity
    public var count: Int
}

/// Every stored alert counted three ways, for the dashboard.
public struct AlertTotals: Sendable {
    public var bySeverity: [Severity: Int] = [:]
    /// Largest first.
    public var byPlatform: [(platform: String, count: Int)] = []
    /// Largest first.
    public var byIntegration: [(integration: String, count: Int)] = []
}
