import Foundation
import VigilStore

/// Where a PostgreSQL store is: `postgresql://user[:password]@host[:port]/database`, as
/// `--store` and `VIGIL_STORE` name it (`postgres://` also reads). The password may also come
/// from `PGPASSWORD`, so it need not show in a process list.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String

    /// Whether `text` names a PostgreSQL store rather than a SQLite file.
    public static func names(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Reads `text`; throws what is wrong with it and what a valid one looks like.
    public init(_ text: String, environment: [String: String] = [:]) throws(StoreError) {
        func invalid(_ why: String) -> StoreError {
            StoreError(.invalidValue, "the store URL \(Self.redacted(text)) \(why); write postgresql://user@host[:port]/database")
        }
        guard let schemeEnd = text.range(of: "://"), Self.names(text) else { throw invalid("is not a postgresql:// URL") }
        var rest = Substring(text[schemeEnd.upperBound...])
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        guard let slash = rest.firstIndex(of: "/") else { throw invalid("names no database") }
        let database = String(rest[rest.index(after: slash)...])
        var authority = rest[..<slash]
        var user = environment["USER"] ?? "postgres"
        var password = environment["PGPASSWORD"]
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = Self.percentDecoded(credentials[..<colon])
                password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                user = Self.percentDecoded(credentials)
            }
        }
        var host = String(authority)
        var port = 5432
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65_535).contains(number) else {
                throw invalid("has a port that is not a number from 1 to 65535")
            }
            port = number
            host = String(authority[..<colon])
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw invalid("names no host") }
        guard !database.isEmpty, !database.contains("/") else { throw invalid("names no database, or more than one path part") }
        guard !user.isEmpty else { throw invalid("names no user") }
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = Self.percentDecoded(Substring(database))
    }

    /// The URL without its password, for messages and logs.
    public var description: String { "postgresql://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" }

    /// `text` with any password replaced, for error messages.
    static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text[schemeEnd.upperBound...].lastIndex(of: "@") else { return "'\(text)'" }
        let credentials = text[schemeEnd.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return "'\(text)'" }
        return "'\(text[..<colon]):***\(text[at...])'"
    }

    /// `%XX` escapes decoded (a password may hold `@` or `/`); a malformed escape is kept as written.
    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
