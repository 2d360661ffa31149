/// A record that could not be parsed: where it was, why, and a bounded prefix of it.
public struct RejectedRecord: Error, Sendable, Equatable {
    public var line: Int
    public var reason: String
    /// At most `RejectedRecord.prefixLimit` bytes of the record.
    public var rawPrefix: String

    public static let prefixLimit = 256

    public init(line: Int, reason: String, raw: String) {
        self.line = line
        self.reason = reason
        var prefix = Substring(raw)
        if raw.utf8.count > Self.prefixLimit {
            var end = raw.utf8.index(raw.utf8.startIndex, offsetBy: Self.prefixLimit)
            while !raw.indices.contains(end) && end > raw.startIndex { end = raw.utf8.index(before: end) }
            prefix = raw[..<end]
        }
        self.rawPrefix = String(prefix)
    }
}
