#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Host-name patterns a push token is bound to (`web-*`, `db-0?`), matched as shell globs,
/// ignoring case. No patterns admit every machine.
public struct HostPatterns: Sendable, Equatable {
    public let patterns: [String]

    private let folded: [String]

    public init(_ patterns: [String]) {
        self.patterns = patterns.filter { !$0.isEmpty }
        folded = self.patterns.map { $0.lowercased() }
    }

    /// Whether data of `hostname` may come through.
    public func admit(_ hostname: String) -> Bool {
        guard !folded.isEmpty else { return true }
        let name = hostname.lowercased()
        return folded.contains { fnmatch($0, name, 0) == 0 }
    }
}
