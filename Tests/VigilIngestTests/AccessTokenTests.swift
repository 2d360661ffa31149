import Testing
import VigilTestSupport
import VigilIngest
import VigilModel

@Suite(.runsOn(.busy)) struct AccessTokenTests {
    @Test func tokensAreLongRandomAndRecognisable() {
        let tokens = (0..<50).map { _ in AccessToken.generate().token }
        #expect(Set(tokens).count == 50)
        for token in tokens {
            #expect(token.hasPrefix("vgl_"))
            #expect(token.count == 47)  // 4 + 43 base64url characters = 256 bits
            #expect(AccessToken.isWellFormed(token))
        }
        let (token, hash) = AccessToken.generate()
        #expect(hash == AccessToken.hash(token))
        #expect(hash.count == 32)
    }

    @Test func constantTimeComparison() {
        #expect(AccessToken.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!AccessToken.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!AccessToken.constantTimeEqual([1, 2, 3], [1, 2]))
    }

    static let now = Timestamp(seconds: 1_800_000_000)

    func verify(_ presented: String?, stored: StoredToken?, enabled: Bool = true, requested: String? = nil, at now: Timestamp = AccessTokenTests.now)
        throws -> Result<StoredToken, IngestGate.TokenRefusal>
    {
        try IngestGate.verify(
            presented: presented, requestedIntegration: requested, now: now,
            lookup: { hash in stored.flatMap { $0.hash == hash ? $0 : nil } },
            integration: { IngestGate.IntegrationState(name: $0, enabled: enabled, formats: ["clamav"]) })
    }

    @Test func lifecycleVerdicts() throws {
        let (token, hash) = AccessToken.generate()
        let expires = Self.now + .seconds(3600)
        let stored = StoredToken(id: 1, integration: "clamav", hash: hash, expiresAt: expires, revokedAt: nil)
        #expect(try verify(token, stored: stored).map(\.id) == .success(1))
        // Expiry is checked at the moment of use: valid one microsecond before, refused at the boundary.
        #expect(try verify(token, stored: stored, at: Timestamp(microseconds: expires.microseconds - 1)).map(\.id) == .success(1))
        #expect(try verify(token, stored: stored, at: expires).map(\.id) == .failure(.expired(expires)))
        var revoked = stored
        revoked.revokedAt = Self.now
        #expect(try verify(token, stored: revoked).map(\.id) == .failure(.revoked(Self.now)))
        #expect(try verify(token, stored: stored, requested: "santa").map(\.id) == .failure(.wrongIntegration(token: "clamav", requested: "santa")))
        #expect(try verify(token, stored: stored, enabled: false).map(\.id) == .failure(.integrationOff("clamav")))
        #expect(try verify(AccessToken.generate().token, stored: stored).map(\.id) == .failure(.unknown))
        #expect(try verify("vgl_short", stored: stored).map(\.id) == .failure(.malformed))
        #expect(try verify("Bearer " + token, stored: stored).map(\.id) == .failure(.malformed))
        #expect(try verify("", stored: stored).map(\.id) == .failure(.missing))
        #expect(try verify(nil, stored: stored).map(\.id) == .failure(.missing))
    }

    @Test func aRowWhoseDigestDiffersIsRefusedEvenWhenTheLookupReturnsIt() throws {
        // A lookup by an index prefix, or a colliding one, may hand back another token's row:
        // the gate itself compares the full digests.
        let (token, hash) = AccessToken.generate()
        let stored = StoredToken(id: 1, integration: "clamav", hash: hash, expiresAt: Self.now + .seconds(3600), revokedAt: nil)
        var lastByteFlipped = hash
        lastByteFlipped[31] ^= 1
        let lookAlike = StoredToken(id: 2, integration: "clamav", hash: lastByteFlipped, expiresAt: stored.expiresAt, revokedAt: nil)
        let verdict = try IngestGate.verify(
            presented: token, requestedIntegration: nil, now: Self.now, lookup: { _ in lookAlike },
            integration: { IngestGate.IntegrationState(name: $0, enabled: true, formats: ["clamav"]) })
        #expect(verdict.map(\.id) == .failure(.unknown))
        #expect(!AccessToken.constantTimeEqual(hash, lastByteFlipped))
        var firstByteFlipped = hash
        firstByteFlipped[0] ^= 0x80
        #expect(!AccessToken.constantTimeEqual(hash, firstByteFlipped))
        #expect(!AccessToken.constantTimeEqual(hash, Array(hash.dropLast())))
        #expect(AccessToken.constantTimeEqual(hash, AccessToken.hash(token)))
    }

    @Test func everyRefusalSaysWhatToDo() {
        let refusals: [IngestGate.TokenRefusal] = [.missing, .malformed, .unknown, .expired(Self.now), .revoked(Self.now),
                                                   .integrationOff("x"), .wrongIntegration(token: "a", requested: "b"),
                                                   .rateLimited(retryAfterSeconds: 2), .invalidatedDuringPush("x")]
        #expect(Set(refusals.map(\.description)).count == refusals.count)
        #expect(refusals.allSatisfy { $0.description.count > 30 })
    }
}
