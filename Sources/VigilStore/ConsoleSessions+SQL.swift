import VigilModel

/// A web console session as the store keeps it: the cookie's session id and the API key it was
/// opened with only as SHA-256 hex digests.
public struct ConsoleSessionRow: Sendable, Equatable {
    public var idHash: String
    public var keyHash: String
    public var name: String
    public var admin: Bool
    /// The token every state-changing request of the session must carry.
    public var csrf: String
    public var expires: Timestamp

    public init(idHash: String, keyHash: String, name: String, admin: Bool, csrf: String, expires: Timestamp) {
        self.idHash = idHash
        self.keyHash = keyHash
        self.name = name
        self.admin = admin
        self.csrf = csrf
        self.expires = expires
    }
}

/// The web console's sessions, on either store, so that every server on the store knows them.
/// The SQL is written once, for both dialects, below.
public protocol ConsoleSessionStore: AnyObject {
    /// Stores `session` after dropping expired sessions, the oldest of its key's beyond
    /// `perKey - 1`, and the oldest of all beyond `capacity - 1`.
    func openConsoleSession(_ session: ConsoleSessionRow, perKey: Int, capacity: Int, now: Timestamp) throws
    /// The unexpired session whose id hashes to `idHash`, or nil.
    func consoleSession(idHash: String, now: Timestamp) throws -> ConsoleSessionRow?
    /// Ends a session (sign-out).
    func closeConsoleSession(idHash: String) throws
}

extension ConsoleSessionStore where Self: SQLWriter {
    public func openConsoleSession(_ session: ConsoleSessionRow, perKey: Int, capacity: Int, now: Timestamp) throws {
        precondition(perKey > 0 && capacity > 0, "a console session store keeps at least one session")
        try inTransaction {
            try write("DELETE FROM console_sessions WHERE expires_at <= ?", [.int(now.microseconds)])
            try write("""
                DELETE FROM console_sessions WHERE key_hash = ? AND id_hash NOT IN (
                    SELECT id_hash FROM console_sessions WHERE key_hash = ? ORDER BY expires_at DESC, id_hash LIMIT ?)
                """, [.text(session.keyHash), .text(session.keyHash), .int(perKey - 1)])
            try write("""
                DELETE FROM console_sessions WHERE id_hash NOT IN (
                    SELECT id_hash FROM console_sessions ORDER BY expires_at DESC, id_hash LIMIT ?)
                """, [.int(capacity - 1)])
            try write("INSERT INTO console_sessions (id_hash, key_hash, name, admin, csrf, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                      [.text(session.idHash), .text(session.keyHash), .text(session.name), .int(session.admin ? 1 : 0), .text(session.csrf),
                       .int(session.expires.microseconds)])
        }
    }

    public func consoleSession(idHash: String, now: Timestamp) throws -> ConsoleSessionRow? {
        try readFirst("""
            SELECT id_hash, key_hash, name, admin, csrf, expires_at FROM console_sessions WHERE id_hash = ? AND expires_at > ?
            """, [.text(idHash), .int(now.microseconds)]) {
                ConsoleSessionRow(idHash: try $0.text("id_hash"), keyHash: try $0.text("key_hash"), name: try $0.text("name"),
                                  admin: try $0.bool("admin"), csrf: try $0.text("csrf"), expires: try $0.time("expires_at"))
            }
    }

    public func closeConsoleSession(idHash: String) throws {
        try write("DELETE FROM console_sessions WHERE id_hash = ?", [.text(idHash)])
    }
}

extension Store: ConsoleSessionStore {}
