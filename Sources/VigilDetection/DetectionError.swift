/// Why a rule could not be loaded or compiled, with where it is.
public struct DetectionError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case badYAML = "bad-yaml"
        case badRule = "bad-rule"
        case unknownModifier = "unknown-modifier"
        case badRegex = "bad-regex"
        case badCondition = "bad-condition"
        case badValue = "bad-value"
        case unsupported
        case io
    }

    public var code: Code
    public var message: String
    public var file: String?
    public var line: Int?

    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// `file:line: message`.
    public var description: String {
        var location = file ?? ""
        if let line { location += ":\(line)" }
        return location.isEmpty ? message : "\(location): \(message)"
    }

    func located(file: String?, line: Int?) -> DetectionError {
        var copy = self
        if copy.file == nil { copy.file = file }
        if copy.line == nil { copy.line = line }
        return copy
    }
}
