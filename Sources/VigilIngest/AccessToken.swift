import Crypto
import VigilModel

/// Push access tokens: `vgl_` + 256 random bits in base64url. Only the SHA-256 of a token is
/// ever stored.
public enum AccessToken {
    public static let prefix = "vgl_"
    /// 32 random bytes encode to 43 base64url characters.
    static let encodedLength = 43

    /// A new token from the system CSPRNG, and the hash to store.
    public static func generate() -> (token: String, hash: [UInt8]) {
        let token = prefix + randomSecret()
        return (token, hash(token))
    }

    /// 256 random bits from the system CSPRNG, as 43 base64url characters: the body of a
    /// token, a console session id or its CSRF token.
    public static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()  // getrandom(2) on Linux
        return base64URL((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// SHA-256 of the token text.
    public static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// True when `token` has the shape of a Vigil token (prefix, length, alphabet).
    public static func isWellFormed(_ token: String) -> Bool {
        guard token.hasPrefix(prefix) else { return false }
        let body = token.utf8.dropFirst(prefix.utf8.count)
        return body.count == encodedLength && body.allSatisfy { byte in
            (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 45 || byte == 95
        }
    }

    /// Compares two digests in time that depends only on their length, never on where they differ.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var output: [UInt8] = []
        var index = 0
        while index + 2 < bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
            index += 3
        }
        let remaining = bytes.count - index
        if remaining == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            for shift in [18, 12, 6] { output.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
        } else if remaining == 1 {
            let value = UInt32(bytes[index]) << 16
            for shift in [18, 12] { output.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// A stored token, as the gate sees it.
public struct StoredToken: Sendable {
    public var id: Int64
    public var integration: String
    public var hash: [UInt8]
    public var expiresAt: Timestamp
    public var revokedAt: Timestamp?
    /// The machines its pushes may carry data of.
    public var machines: HostPatterns

    public init(id: Int64, integration: String, hash: [UInt8], expiresAt: Timestamp, revokedAt: Timestamp?, machines: HostPatterns = HostPatterns([])) {
        self.id = id
        self.integration = integration
        self.hash = hash
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.machines = machines
    }
}

extension IngestGate {
    /// Why a push token was not accepted.
    public enum TokenRefusal: Error, Equatable, CustomStringConvertible, Sendable {
        case missing
        case malformed
        case unknown
        case expired(Timestamp)
        case revoked(Timestamp)
        case integrationOff(String)
        case wrongIntegration(token: String, requested: String)
        /// The token pushed faster than the server's per-token limit.
        case rateLimited(retryAfterSeconds: Int)
        /// The token was revoked or expired, or its integration turned off, while the push's
        /// body streamed in: checked again at the commit, and nothing was stored.
        case invalidatedDuringPush(String)

        public var description: String {
            switch self {
            case .missing: "no access token: send 'Authorization: Bearer <token>' with a token from `vigil integration token NAME`"
            case .malformed: "the access token is malformed: Vigil tokens start with 'vgl_' followed by 43 characters"
            case .unknown: "the access token is unknown: generate one with `vigil integration token NAME` and configure it in the sensor"
            case .expired(let time): "the access token expired at \(time.iso8601): generate a new one with `vigil integration token NAME`"
            case .revoked(let time): "the access token was revoked at \(time.iso8601): generate a new one with `vigil integration token NAME`"
            case .integrationOff(let name): "the integration '\(name)' is off, so its data is refused. Turn it on with `vigil integration on \(name)`, then generate a new token."
            case .wrongIntegration(let token, let requested): "the access token belongs to the integration '\(token)', not '\(requested)'"
            case .rateLimited(let seconds): "this token pushes faster than the server allows (`vigil serve --push-rate`); retry after \(seconds) s, or send more events per push"
            case .invalidatedDuringPush(let name): "the access token was revoked or expired, or the integration '\(name)' was turned off, while this push was being received; nothing of it was stored. Generate a new token with `vigil integration token \(name)`"
            }
        }
    }

    /// Decides whether a presented token may push, at `now`.
    ///
    /// `lookup` finds the stored token by the presented token's hash (an indexed lookup over
    /// hashes reveals nothing about the token); the digests are then compared in constant time.
    public static func verify(
        presented: String?, requestedIntegration: String? = nil, now: Timestamp,
        lookup: ([UInt8]) throws -> StoredToken?, integration: (String) throws -> IntegrationState?
    ) throws -> Result<StoredToken, TokenRefusal> {
        guard let presented, !presented.isEmpty else { return .failure(.missing) }
        guard AccessToken.isWellFormed(presented) else { return .failure(.malformed) }
        let digest = AccessToken.hash(presented)
        guard let stored = try lookup(digest), AccessToken.constantTimeEqual(stored.hash, digest) else { return .failure(.unknown) }
        if let revoked = stored.revokedAt { return .failure(.revoked(revoked)) }
        guard now < stored.expiresAt else { return .failure(.expired(stored.expiresAt)) }
        if let requestedIntegration, requestedIntegration != stored.integration {
            return .failure(.wrongIntegration(token: stored.integration, requested: requestedIntegration))
        }
        guard let state = try integration(stored.integration), state.enabled else { return .failure(.integrationOff(stored.integration)) }
        return .success(stored)
    }
}
