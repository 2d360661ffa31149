import Foundation
import VigilIngest
import VigilModel
import VigilStore

/// The web console's signed-in sessions, kept in the store (`ConsoleSessionStore`), so that
/// every server on it knows them: several nodes on one PostgreSQL store serve the console
/// without session affinity. The cookie carries only a random session id; the store keeps its
/// SHA-256 and the API key's, and the key is checked again on every request, so revoking or
/// expiring the key ends its sessions at once.
final class ConsoleSessions: Sendable {
    /// One signed-in browser.
    struct Session: Sendable {
        /// The cookie's value (never stored).
        let id: String
        /// The SHA-256 of the API key the user signed in with (the key itself is never kept).
        let keyHash: [UInt8]
        let name: String
        let admin: Bool
        /// The token every state-changing form and request of this session must carry.
        let csrf: String
        let expires: Timestamp
    }

    /// The session cookie's name.
    static let cookieName = "vigil_session"
    /// Sessions held at once, at most; signing in past it ends the oldest.
    static let capacity = 10_000
    /// Sessions one API key holds at once, at most; signing in past it ends that key's oldest,
    /// so one key's holder cannot push other users' sessions out of `capacity`.
    static let perKey = 20

    let lifetime: Duration
    /// Where sessions are opened and closed (the control connection).
    private let service: IngestService
    /// Where each request's session is looked up.
    private let readers: QueryReaders

    init(lifetime: Duration, service: IngestService, readers: QueryReaders) {
        self.lifetime = lifetime
        self.service = service
        self.readers = readers
    }

    /// Opens a session for a key that was just authorized.
    func open(key: String, name: String, admin: Bool, now: Timestamp = .now()) async throws -> Session {
        let session = Session(id: AccessToken.randomSecret(), keyHash: AccessToken.hash(key), name: name, admin: admin,
                              csrf: AccessToken.randomSecret(),
                              expires: Timestamp(microseconds: now.microseconds + lifetime.components.seconds * 1_000_000))
        let row = ConsoleSessionRow(idHash: Self.hex(AccessToken.hash(session.id)), keyHash: Self.hex(session.keyHash), name: name,
                                    admin: admin, csrf: session.csrf, expires: session.expires)
        try await service.onControl { try $0.openConsoleSession(row, perKey: Self.perKey, capacity: Self.capacity, now: now) }
        return session
    }

    /// The unexpired session with this id, or nil.
    func session(id: String, now: Timestamp = .now()) async throws -> Session? {
        let idHash = Self.hex(AccessToken.hash(id))
        guard let row = try await readers.read({ try $0.consoleSession(idHash: idHash, now: now) }),
              let keyHash = Self.bytes(hex: row.keyHash) else { return nil }
        return Session(id: id, keyHash: keyHash, name: row.name, admin: row.admin, csrf: row.csrf, expires: row.expires)
    }

    func close(id: String) async throws {
        let idHash = Self.hex(AccessToken.hash(id))
        try await service.onControl { try $0.closeConsoleSession(idHash: idHash) }
    }

    /// The `Set-Cookie` value for `session`: HttpOnly, SameSite=Strict, Path=/, an expiry, and
    /// Secure when the console is reached over TLS.
    static func cookie(for session: Session, secure: Bool) -> String {
        let seconds = max(0, (session.expires.microseconds - Timestamp.now().microseconds) / 1_000_000)
        return "\(cookieName)=\(session.id); Path=/; Max-Age=\(seconds); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that removes the session cookie.
    static func expiredCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `bytes` as lowercase hex.
    static func hex(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes { text += [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]] }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of lowercase hex `text`, or nil when it is not that.
    static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexDigits.firstIndex(of: digits[index]), let low = hexDigits.firstIndex(of: digits[index + 1]) else { return nil }
            bytes.append(UInt8(high << 4 | low))
        }
        return bytes
    }
}
