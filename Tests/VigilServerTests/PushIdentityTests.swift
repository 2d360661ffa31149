import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import VigilIngest
import VigilModel
import VigilServer
import VigilStore

/// A push cannot invent a nameless machine, nor one of a platform its integration does not cover.
@Suite struct PushIdentityTests {
    @Test func anEmptyHostnameIsRefused() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            for name in ["", "%20%20"] {
                try await client.execute(uri: "/api/v1/ingest?format=json&hostname=\(name)", method: .post, headers: headers(fixture.jsonToken),
                                         body: ByteBuffer(string: #"{"n":1}"#)) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("hostname must name a machine"))
                }
            }
        }
        #expect(try fixture.store().machines().isEmpty)
    }

    @Test func aMachineOfAPlatformTheIntegrationDoesNotCoverIsRejectedByLine() async throws {
        let fixture = try ServerFixture()
        let body = [#"{"hostname":"a","os_platform":"linux","n":1}"#, #"{"hostname":"b","os_platform":"android","n":2}"#].joined(separator: "\n")
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken),
                                     body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["accepted"] as? Int == 2, "the json integration covers both")
            }
        }
        let store = try fixture.store()
        try store.addIntegration(IntegrationDefinition(name: "mac-json", displayName: "macOS JSON", platforms: ["macos"], formats: ["json"]), actor: "test")
        try store.setIntegration("mac-json", enabled: true, actor: "test")
        let issued = AccessToken.generate()
        _ = try store.createToken(integration: "mac-json", hash: issued.hash, expiresAt: Timestamp.now() + .seconds(600), actor: "test")
        let token = issued.token
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(token),
                                     body: ByteBuffer(string: [#"{"hostname":"m","os_platform":"macos","n":3}"#, #"{"hostname":"c","os_platform":"android","n":4}"#].joined(separator: "\n"))) { response in
                #expect(response.status == .ok)
                let reply = json(response.body)
                #expect(reply["accepted"] as? Int == 1)
                let rejected = reply["rejected_records"] as? [[String: Any]]
                #expect(rejected?.first?["line"] as? Int == 2)
                #expect((rejected?.first?["reason"] as? String)?.contains("covers only macos") == true)
            }
        }
    }
}
