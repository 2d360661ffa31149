import Foundation
import Synchronization
import VigilIngest
import VigilModel

/// The web console's signed-in sessions, held in this server's memory. The cookie carries
/// only a random session id; the API key it was opened with stays here and is checked again
/// on every request, so revoking or expiring the key ends its sessions at once.
final class ConsoleSessions: Sendable {
    /// One signed-in browser.
    struct Session: Sendable {
        let id: String
        /// The API key the user signed in with (never sent back to the browser).
        let key: String
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
    private let sessions = Mutex<[String: Session]>([:])

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// Opens a session for a key that was just authorized.
    func open(key: String, name: String, admin: Bool, now: Timestamp = .now()) -> Session {
        let session = Session(id: AccessToken.randomSecret(), key: key, name: name, admin: admin, csrf: AccessToken.randomSecret(),
                              expires: Timestamp(microseconds: now.microseconds + lifetime.components.seconds * 1_000_000))
        sessions.withLock { sessions in
            let own = sessions.values.filter { $0.key == key }
            if own.count >= Self.perKey, let oldest = own.min(by: { $0.expires < $1.expires }) {
                sessions[oldest.id] = nil
            }
            if sessions.count >= Self.capacity {
                sessions = sessions.filter { $0.value.expires > now }
                if sessions.count >= Self.capacity, let oldest = sessions.values.min(by: { $0.expires < $1.expires }) {
                    sessions[oldest.id] = nil
                }
            }
            sessions[session.id] = session
        }
        return session
    }

    /// The unexpired session with this id, or nil.
    func session(id: String, now: Timestamp = .now()) -> Session? {
        sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard session.expires > now else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    func close(id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
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
}
