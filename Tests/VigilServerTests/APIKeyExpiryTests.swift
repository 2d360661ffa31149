import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import VigilTestSupport
import VigilIngest
import VigilModel
import VigilServer
import VigilStore

/// An API key with an expiry is refused from then on; each key shows when it was last used.
@Suite(.runsOn(.servers)) struct APIKeyExpiryTests {
    @Test func anExpiredKeyIsRefusedAndAValidOneRecordsItsUse() async throws {
        let fixture = try ServerFixture()
        let store = try fixture.store()
        let expired = APIKey.generate(), current = APIKey.generate()
        _ = try store.createAPIKey(name: "lapsed", hash: expired.hash, expiresAt: Timestamp.now() + .seconds(-1), actor: "test")
        _ = try store.createAPIKey(name: "current", hash: current.hash, expiresAt: Timestamp.now() + .seconds(3600), actor: "test")
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/alerts", method: .get, headers: headers(expired.key)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("expired"))
            }
            try await client.execute(uri: "/api/v1/alerts", method: .get, headers: headers(current.key)) { response in
                #expect(response.status == .ok)
            }
        }
        let keys = try store.apiKeys()
        let lapsed = try #require(keys.first { $0.name == "lapsed" })
        let used = try #require(keys.first { $0.name == "current" })
        #expect(lapsed.state == "expired")
        #expect(lapsed.lastUsedAt == nil, "a refused key is not recorded as used")
        #expect(used.state == "active")
        #expect(used.lastUsedAt != nil)
        #expect(try store.audit(action: "apikey.create", target: nil, since: nil, limit: 10).contains { $0.details.contains("lapsed") && $0.details.contains("expires") })
    }
}
