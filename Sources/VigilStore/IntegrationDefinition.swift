import VigilModel

/// A third-party solution that sends data, and what it covers.
public struct IntegrationDefinition: Sendable, Equatable {
    public var name: String
    public var displayName: String
    public var platforms: [String]
    public var formats: [String]

    public init(name: String, displayName: String, platforms: [String], formats: [String]) {
        self.name = name
        self.displayName = displayName
        self.platforms = platforms
        self.formats = formats
    }
}
