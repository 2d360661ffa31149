/// A failure to read an input as a whole (a single bad record is a `RejectedRecord` instead).
public struct IngestError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable { case io, gzip, format }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

