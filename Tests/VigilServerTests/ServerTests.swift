#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
@testable import VigilServer
@testable import VigilStore
import Yams

/// A database with the clamav and json integrations on, a push token for each and an API key.
final class ServerFixture: Sendable {
    private let scratch = TemporaryDirectory(prefix: "vigil-server")
    var directory: URL { scratch.url }
    var database: String { scratch.databasePath }
    let clamavToken: String
    let jsonToken: String
    let apiKey: String
    let adminKey: String

    init(tokenLifetime: Duration = .seconds(3600)) throws {
        let store = try Store(path: scratch.databasePath)
        for name in ["clamav", "json"] { try store.setIntegration(name, enabled: true, actor: "test") }
        let clamav = AccessToken.generate()
        _ = try store.createToken(integration: "clamav", hash: clamav.hash, expiresAt: Timestamp.now() + tokenLifetime, actor: "test")
        clamavToken = clamav.token
        let json = AccessToken.generate()
        _ = try store.createToken(integration: "json", hash: json.hash, expiresAt: Timestamp.now() + tokenLifetime, actor: "test")
        jsonToken = json.token
        let key = APIKey.generate()
        _ = try store.createAPIKey(name: "tester", hash: key.hash, actor: "test")
        apiKey = key.key
        let admin = APIKey.generate()
        _ = try store.createAPIKey(name: "admin", hash: admin.hash, admin: true, actor: "test")
        adminKey = admin.key
    }

    func app(bodyLimit: Int = 16 * 1024 * 1024, pushesPerSecond: Int = 100, acceptsPushes: Bool = true,
             metricsRequireKey: Bool = false) throws -> some ApplicationProtocol {
        var configuration = ServerConfiguration(databasePath: database, ruleSet: .builtin())
        configuration.port = 0
        configuration.bodyLimit = bodyLimit
        configuration.pushesPerSecond = pushesPerSecond
        configuration.acceptsPushes = acceptsPushes
        configuration.metricsRequireKey = metricsRequireKey
        // The live test client keeps one connection open and may leave it idle for long while a
        // loaded machine runs the other tests; the slow-client timeouts are SlowClientTests' to test.
        configuration.headerTimeout = .seconds(600)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return try buildApplication(configuration, logger: logger)
    }

    func store() throws -> Store { try Store(path: database) }
}

func headers(_ bearer: String?, _ extra: HTTPFields = [:]) -> HTTPFields {
    var fields = extra
    if let bearer { fields[.authorization] = "Bearer \(bearer)" }
    return fields
}

func json(_ buffer: ByteBuffer) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any]) ?? [:]
}

let corpusLogs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus/logs").standardized

@Suite(.runsOn(.servers)) struct IngestEndpointTests {
    @Test func theEICARTestWorksOverHTTP() async throws {
        let fixture = try ServerFixture()
        let log = try Data(contentsOf: corpusLogs.appendingPathComponent("clamav/clamd_clamav.log"))
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest?hostname=web-01", method: .post, headers: headers(fixture.clamavToken),
                                     body: ByteBuffer(bytes: log)) { response in
                #expect(response.status == .ok)
                let reply = json(response.body)
                #expect(reply["records"] as? Int == 57)
                #expect(reply["accepted"] as? Int == 54)
                #expect(reply["duplicates"] as? Int == 3)
                #expect(reply["format"] as? String == "clamav")
            }
            try await client.execute(uri: "/api/v1/alerts?machine=web-01&rule=EICAR%20test%20file%20detected", method: .get, headers: headers(fixture.apiKey)) { response in
                #expect(response.status == .ok)
                let alerts = json(response.body)["alerts"] as? [[String: Any]] ?? []
                #expect(alerts.count == 1)
                #expect(alerts.first?["integration"] as? String == "clamav")
            }
        }
    }

    @Test func everyRefusalHasItsStatus() async throws {
        let fixture = try ServerFixture()
        try await fixture.app(bodyLimit: 1024).test(.router) { client in
            let push = { (token: String?, uri: String, body: String, extra: HTTPFields) async throws -> (HTTPResponse.Status, String) in
                try await client.execute(uri: uri, method: .post, headers: headers(token, extra), body: ByteBuffer(string: body)) {
                    ($0.status, String(buffer: $0.body))
                }
            }
            var (status, body) = try await push(nil, "/api/v1/ingest", "{}", [:])
            #expect(status == .unauthorized && body.contains("no access token"))
            (status, body) = try await push("vgl_short", "/api/v1/ingest", "{}", [:])
            #expect(status == .unauthorized && body.contains("malformed"))
            (status, body) = try await push(AccessToken.generate().token, "/api/v1/ingest", "{}", [:])
            #expect(status == .unauthorized && body.contains("unknown"))
            (status, body) = try await push(fixture.apiKey, "/api/v1/ingest", "{}", [:])
            #expect(status == .unauthorized && body.contains("API key"))
            (status, body) = try await push(fixture.jsonToken, "/api/v1/ingest", String(repeating: "x", count: 2048), [:])
            #expect(status == .contentTooLarge)
            (status, body) = try await push(fixture.jsonToken, "/api/v1/ingest", "{}", [.contentEncoding: "br"])
            #expect(status == .unsupportedMediaType)
            (status, body) = try await push(fixture.jsonToken, "/api/v1/ingest?format=bogus", "{}", [:])
            #expect(status == .unprocessableContent)
            (status, body) = try await push(fixture.jsonToken, "/api/v1/ingest", "no format fits this\n", [:])
            #expect(status == .unprocessableContent)
            (status, body) = try await push(fixture.jsonToken, "/api/v1/ingest?format=clamav", "/x: Eicar FOUND\n", [:])
            #expect(status == .unprocessableContent && body.contains("does not send 'clamav'"))
        }
        #expect(try fixture.store().count(.events) == 0)
    }

    @Test func revokedAndOffAreRefusedAndStoredDataStays() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest", method: .post, headers: headers(fixture.jsonToken),
                                     body: ByteBuffer(string: #"{"hostname":"h","n":1}"# + "\n")) { #expect($0.status == .ok) }
            // The integration is turned off while the client is pushing.
            try fixture.store().setIntegration("json", enabled: false, actor: "test")
            try await client.execute(uri: "/api/v1/ingest", method: .post, headers: headers(fixture.jsonToken),
                                     body: ByteBuffer(string: #"{"hostname":"h","n":2}"# + "\n")) { response in
                // Turning off revoked the token.
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("revoked"))
            }
            try fixture.store().setIntegration("json", enabled: true, actor: "test")
            try await client.execute(uri: "/api/v1/ingest", method: .post, headers: headers(fixture.jsonToken),
                                     body: ByteBuffer(string: #"{"hostname":"h","n":3}"# + "\n")) { #expect($0.status == .unauthorized) }
        }
        #expect(try fixture.store().count(.events) == 1)
    }

    @Test func aTokenThatExpiresBetweenTwoRequests() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest", method: .post, headers: headers(fixture.jsonToken),
                                     body: ByteBuffer(string: #"{"hostname":"h","n":1}"#)) { #expect($0.status == .ok) }
            // The token's validity now ends half a second from now (as if it had been issued earlier).
            let soon = Timestamp.now().microseconds + 500_000
            try fixture.store().connection.execute("UPDATE access_tokens SET expires_at = \(soon) WHERE integration = 'json'")
            try await Task.sleep(for: .milliseconds(700))
            try await client.execute(uri: "/api/v1/ingest", method: .post, headers: headers(fixture.jsonToken),
                                     body: ByteBuffer(string: #"{"hostname":"h","n":2}"#)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("expired"))
            }
        }
    }

    @Test func gzipBodiesAndRejectedLinesAreReported() async throws {
        let fixture = try ServerFixture()
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-push-\(UUID().uuidString).json")
        try Data(((0..<200).map { #"{"hostname":"h","n":\#($0)}"# } + ["{broken"]).joined(separator: "\n").utf8).write(to: plain)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-f", plain.path]
        try gzip.run()
        gzip.waitUntilExit()
        let compressed = try Data(contentsOf: URL(fileURLWithPath: plain.path + ".gz"))
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken, [.contentEncoding: "gzip"]),
                                     body: ByteBuffer(bytes: compressed)) { response in
                #expect(response.status == .ok)
                let reply = json(response.body)
                #expect(reply["accepted"] as? Int == 200)
                #expect(reply["rejected"] as? Int == 1)
                #expect((reply["rejected_records"] as? [[String: Any]])?.first?["line"] as? Int == 201)
            }
        }
    }

    @Test func aJSONArrayBodyIsAccepted() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest", method: .post, headers: headers(fixture.jsonToken),
                                     body: ByteBuffer(string: #"[{"hostname":"a","n":1},{"hostname":"b","n":2}]"#)) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["accepted"] as? Int == 2)
            }
        }
    }

    @Test func concurrentPushersLoseAndDuplicateNothing() async throws {
        let fixture = try ServerFixture()
        let clients = 32, perClient = 50
        try await fixture.app().test(.live) { client in
            let port = try #require(client.port)
            // A connection per pusher, so the pushes really are concurrent (the live test client
            // pipelines requests on one connection), and a patient timeout: this checks counts.
            let configuration = URLSessionConfiguration.ephemeral
            configuration.httpMaximumConnectionsPerHost = clients
            let session = URLSession(configuration: configuration)
            defer { session.finishTasksAndInvalidate() }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for pusher in 0..<clients {
                    group.addTask {
                        let body = (0..<perClient).map { #"{"hostname":"host-\#(pusher)","@timestamp":"2026-03-03T10:00:00Z","n":\#($0)}"# }.joined(separator: "\n")
                        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/ingest?format=json")!)
                        request.httpMethod = "POST"
                        request.timeoutInterval = 300
                        request.setValue("Bearer \(fixture.jsonToken)", forHTTPHeaderField: "Authorization")
                        request.httpBody = Data(body.utf8)
                        let (data, response) = try await session.data(for: request)
                        #expect((response as? HTTPURLResponse)?.statusCode == 200)
                        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["accepted"] as? Int ?? -1
                    }
                }
                var total = 0
                for try await accepted in group { total += accepted }
                #expect(total == clients * perClient)
            }
        }
        let store = try fixture.store()
        #expect(try store.count(.events) == clients * perClient)
        #expect(try store.count(.machines) == clients)
        #expect(try store.count(.imports) == clients)
    }
}

@Suite(.runsOn(.servers)) struct HTTPSeedFlowTests {
    /// Turn on, issue a token, push the ClamAV log, see the alert, turn off, push refused: all over HTTP.
    @Test func theOnboardingFlowWorksEntirelyOverHTTP() async throws {
        let fixture = try ServerFixture()
        try fixture.store().setIntegration("clamav", enabled: false, actor: "test")
        let log = try Data(contentsOf: corpusLogs.appendingPathComponent("clamav/clamscan_l.log"))
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/integrations/clamav/tokens", method: .post, headers: headers(fixture.adminKey)) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("turn it on first"))
            }
            try await client.execute(uri: "/api/v1/integrations/clamav/on", method: .post, headers: headers(fixture.apiKey)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/api/v1/integrations/clamav/on", method: .post, headers: headers(fixture.adminKey)) { #expect($0.status == .ok) }
            let token: String = try await client.execute(uri: "/api/v1/integrations/clamav/tokens", method: .post, headers: headers(fixture.adminKey),
                                                         body: ByteBuffer(string: #"{"valid_for":"1h"}"#)) { response in
                #expect(response.status == .created)
                return json(response.body)["token"] as? String ?? ""
            }
            #expect(token.hasPrefix("vgl_"))
            try await client.execute(uri: "/api/v1/ingest?hostname=av-host", method: .post, headers: headers(token), body: ByteBuffer(bytes: log)) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/api/v1/alerts?machine=av-host", method: .get, headers: headers(fixture.apiKey)) { response in
                let titles = (json(response.body)["alerts"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String }
                #expect(titles.contains("EICAR test file detected"))
            }
            try await client.execute(uri: "/api/v1/integrations/clamav/off", method: .post, headers: headers(fixture.adminKey)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/ingest?hostname=av-host", method: .post, headers: headers(token), body: ByteBuffer(bytes: log)) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("revoked"))
            }
        }
    }
}

@Suite(.runsOn(.servers)) struct QueryEndpointTests {
    @Test func alertsPageWithAContinuationTokenAndTriageWorks() async throws {
        let fixture = try ServerFixture()
        let lines = (0..<5).map { #"{"hostname":"h\#($0)","@timestamp":"2026-03-03T10:0\#($0):00Z","logsource":{"category":"antivirus"},"Signature":"Sig.\#($0)"}"# }
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest", method: .post, headers: headers(fixture.jsonToken),
                                     body: ByteBuffer(string: lines.joined(separator: "\n"))) { #expect($0.status == .ok) }
            var seen: [Int] = []
            var uri = "/api/v1/alerts?limit=2"
            for _ in 0..<3 {
                let next: String? = try await client.execute(uri: uri, method: .get, headers: headers(fixture.apiKey)) { response in
                    let body = json(response.body)
                    seen += (body["alerts"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
                    return body["next"] as? String
                }
                guard let next else { break }
                uri = "/api/v1/alerts?limit=2&cursor=\(next)"
            }
            #expect(seen.sorted() == [1, 2, 3, 4, 5])
            try await client.execute(uri: "/api/v1/alerts?limit=5000", method: .get, headers: headers(fixture.apiKey)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/alerts?severity=huge", method: .get, headers: headers(fixture.apiKey)) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/v1/alerts", method: .get, headers: headers(fixture.jsonToken)) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/alerts", method: .get, headers: headers(nil)) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/v1/alerts/1", method: .patch, headers: headers(fixture.apiKey),
                                     body: ByteBuffer(string: #"{"status":"in-progress","assigned_to":"carol","comment":"looking"}"#)) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["status"] as? String == "in_progress")
            }
            try await client.execute(uri: "/api/v1/alerts/1", method: .patch, headers: headers(fixture.apiKey),
                                     body: ByteBuffer(string: #"{"colour":"red"}"#)) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/v1/alerts/999", method: .get, headers: headers(fixture.apiKey)) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v1/alerts/1", method: .get, headers: headers(fixture.apiKey)) { response in
                let body = json(response.body)
                #expect((body["events"] as? [[String: Any]])?.count == 1)
                #expect((body["history"] as? [[String: Any]])?.first?["actor"] as? String == "apikey:tester")
            }
            for path in ["/api/v1/incidents", "/api/v1/machines", "/api/v1/integrations"] {
                try await client.execute(uri: path, method: .get, headers: headers(fixture.apiKey)) { response in
                    #expect(response.status == .ok)
                    #expect(!String(buffer: response.body).contains("vgl_"))
                }
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains("vigil_events_received_total{integration=\"json\"} 5"))
            }
        }
    }

    /// Every route is in openapi.yaml, except the web console's pages, which stay out of `/api/`.
    @Test func theOpenAPIDocumentListsEveryRoute() throws {
        let fixture = try ServerFixture()
        let configuration = ServerConfiguration(databasePath: fixture.database, ruleSet: .builtin())
        let service = try IngestService(databasePath: fixture.database, ruleSet: .builtin())
        let router = buildRouter(configuration, service: service, logger: Logger(label: "test"))
        let name = { (route: Router<VigilRequestContext>.RouteDescription) in "\(route.method.rawValue.lowercased()) \(route.path.description.replacingOccurrences(of: ":id", with: "{id}"))" }
        let routes = Set(router.routes.map(name))
        let console = Router(context: VigilRequestContext.self)
        let readers = QueryReaders.sqlite(path: fixture.database)
        ConsoleController(service: service, readers: readers, sessions: ConsoleSessions(lifetime: .seconds(60), service: service, readers: readers),
                          renderer: ConsoleRenderer(),
                          secureCookies: false, activityWindow: .seconds(60)).register(on: console)
        let pages = Set(console.routes.map(name))
        #expect(pages.isSubset(of: routes) && pages.count > 10)
        #expect(!pages.contains { $0.contains(" /api/") }, "console pages stay out of the API's namespace")
        let document = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../openapi.yaml"), encoding: .utf8)
        let paths = try #require(try Yams.load(yaml: document) as? [String: Any])["paths"] as? [String: [String: Any]] ?? [:]
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0) \(path)" } })
        #expect(routes.subtracting(pages) == documented)
    }
}
