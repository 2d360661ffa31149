import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import VigilTestSupport
import VigilIngest
import VigilModel
import VigilServer
import VigilStore

/// A push cannot invent a nameless machine, nor one of a platform its integration does not cover.
@Suite(.runsOn(.servers)) struct PushIdentityTests {
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

/// A push token bound to host-name patterns carries data only of matching machines.
@Suite(.runsOn(.servers)) struct TokenMachineBindingTests {
    @Test func aBoundTokenPushesOnlyForItsMachines() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            let issued = try await client.execute(uri: "/api/v1/integrations/json/tokens", method: .post, headers: headers(fixture.adminKey),
                                                  body: ByteBuffer(string: #"{"valid_for":"1h","machines":["web-*","DB-01"]}"#)) { response in
                #expect(response.status == .created)
                return json(response.body)["token"] as? String ?? ""
            }
            let body = [#"{"hostname":"WEB-7","n":1}"#, #"{"hostname":"db-01","n":2}"#, #"{"hostname":"mail-1","n":3}"#].joined(separator: "\n")
            try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(issued), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let reply = json(response.body)
                #expect(reply["accepted"] as? Int == 2)
                let rejected = reply["rejected_records"] as? [[String: Any]]
                #expect(rejected?.count == 1)
                #expect(rejected?.first?["line"] as? Int == 3)
                #expect((rejected?.first?["reason"] as? String)?.contains("only of machines matching web-*, DB-01, not mail-1") == true)
            }
            try await client.execute(uri: "/api/v1/integrations/json/tokens", method: .post, headers: headers(fixture.adminKey),
                                     body: ByteBuffer(string: #"{"machines":[""]}"#)) { #expect($0.status == .badRequest) }
        }
        let tokens = try fixture.store().tokens(integration: "json")
        #expect(tokens.first?.machines == ["web-*", "DB-01"])
        #expect(try fixture.store().machines().map(\.hostname).sorted() == ["WEB-7", "db-01"])
    }

    @Test func patternsAreGlobsIgnoringCase() {
        let patterns = HostPatterns(["web-*", "db-0?"])
        #expect(patterns.admit("WEB-frontend"))
        #expect(patterns.admit("db-07"))
        #expect(!patterns.admit("db-007"))
        #expect(!patterns.admit("mail"))
        #expect(HostPatterns([]).admit("anything"))
    }
}
