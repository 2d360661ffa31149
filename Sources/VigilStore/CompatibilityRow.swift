import VigilModel

/// One supported OS version.
public struct CompatibilityRow: Sendable, Equatable {
    public var platform: String
    public var distribution: String
    public var version: String
    public var note: String

    public init(platform: String, distribution: String, version: String, note: String) {
        self.platform = platform
        self.distribution = distribution
        self.version = version
        self.note = note
    }
}

extension CompatibilityRow: Encodable {
    public enum CodingKeys: String, CodingKey, CaseIterable { case platform, distribution, version, note }
}
