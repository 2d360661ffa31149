import Foundation
import VigilStore

/// Where a PostgreSQL store is: `postgresql://user[:password]@host[:port]/database`, as
/// `--store` and `VIGIL_STORE` name it (`postgres://` also reads). The password may also come
/// from `PGPASSWORD`, so it need not show in a process list. `?sslmode=…&sslrootcert=…` set
/// TLS as libpq reads them; any other parameter is refused, so that none is silently ignored.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// A PEM file of the certificate authorities to trust (`sslrootcert`); nil for the system's.
    public var rootCertificate: String?

    /// How the connection is encrypted and what is checked, with libpq's `sslmode` names.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, else plain TCP; the certificate is not checked (libpq's default).
        case prefer
        /// TLS or no connection; the certificate is not checked.
        case require
        /// TLS, with a certificate signed by a trusted authority.
        case verifyCA = "verify-ca"
        /// TLS, with a trusted certificate issued to the URL's host name.
        case verifyFull = "verify-full"
    }

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
        var tls = TLSMode.prefer
        var rootCertificate: String?
        if let query = rest.firstIndex(of: "?") {
            for parameter in rest[rest.index(after: query)...].split(separator: "&") {
                let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0]), value = parts.count == 2 ? Self.percentDecoded(parts[1]) : ""
                switch name {
                case "sslmode":
                    guard let mode = TLSMode(rawValue: value) else {
                        throw invalid("has sslmode=\(value); use one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    tls = mode
                case "sslrootcert":
                    guard !value.isEmpty else { throw invalid("has an empty sslrootcert; name a PEM file of trusted authorities") }
                    rootCertificate = value
                default:
                    throw invalid("has the parameter '\(name)', which Vigil does not read; it reads sslmode and sslrootcert")
                }
            }
            rest = rest[..<query]
        }
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
        // No SNI carries an address, so postgres-nio would check no name at all: refuse rather than check less than asked.
        if tls == .verifyFull, host.contains(":") || host.split(separator: ".").allSatisfy({ UInt8($0) != nil }) {
            throw invalid("asks for sslmode=verify-full with an IP address; name the host as its certificate does, or use verify-ca")
        }
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = Self.percentDecoded(Substring(database))
        self.tls = tls
        self.rootCertificate = rootCertificate
    }

    /// The URL without its password, for messages and logs (and for other processes: it reads back as the same URL).
    public var description: String {
        var parameters: [String] = tls == .prefer ? [] : ["sslmode=\(tls.rawValue)"]
        if let rootCertificate {
            // Escaped so that a path holding `&`, `%` or `#` reads back as itself.
            let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "/-._~ "))
            parameters.append("sslrootcert=\(rootCertificate.addingPercentEncoding(withAllowedCharacters: plain) ?? rootCertificate)")
        }
        return "postgresql://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
            + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
    }

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
