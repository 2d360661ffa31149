import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
import VigilTestSupport
import VigilTooling
@testable import VigilServer
@testable import VigilStore

/// The web console's sessions, CSRF checks, admin gate and page reads, over the router (the
/// browser flow is ConsoleBrowserTests').
@Suite(.runsOn(.servers)) struct ConsoleTests {
    /// A signed-in browser: its cookie and the CSRF token its pages carry.
    struct SignedIn {
        let cookie: String
        let csrf: String
    }

    static func signIn(_ client: some TestClientProtocol, key: String, extra: HTTPFields = [:]) async throws -> (SignedIn, setCookie: String) {
        let setCookie = try await client.execute(uri: "/login", method: .post, headers: extra, body: ByteBuffer(string: "key=\(key)&next=%2Falerts")) { response in
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/alerts")
            return response.headers[.setCookie] ?? ""
        }
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]) { String(buffer: $0.body) }
        return (SignedIn(cookie: cookie, csrf: try #require(csrfToken(in: page))), setCookie)
    }

    static func csrfToken(in page: String) -> String? {
        guard let range = page.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression) else { return nil }
        return String(page[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, _ session: SignedIn, form: String) async throws -> (HTTPResponse.Status, String?) {
        try await client.execute(uri: uri, method: .post, headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                                 body: ByteBuffer(string: form)) { ($0.status, $0.headers[.location]) }
    }

    @Test func signInSetsAHardenedSessionCookieAndSignOutEndsIt() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            let (session, setCookie) = try await Self.signIn(client, key: fixture.apiKey)
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] { #expect(setCookie.contains(attribute), "\(setCookie)") }
            #expect(!setCookie.contains("Secure"), "plain HTTP on loopback: a Secure cookie would never come back")
            #expect(!setCookie.contains(fixture.apiKey), "the cookie carries a session id, never the key")
            let (_, behindTLS) = try await Self.signIn(client, key: fixture.apiKey, extra: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(behindTLS.contains("; Secure"))

            try await client.execute(uri: "/alerts", method: .get, headers: [.cookie: session.cookie]) { response in
                #expect(response.status == .ok)
                let policy = response.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
            #expect(try await Self.post(client, "/logout", session, form: "csrf=\(session.csrf)").1 == "/login")
            try await client.execute(uri: "/alerts", method: .get, headers: [.cookie: session.cookie]) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/login?next=%2Falerts")
            }
            try await client.execute(uri: "/login", method: .post, headers: [.origin: "https://evil.example"],
                                     body: ByteBuffer(string: "key=\(fixture.apiKey)")) { response in
                #expect(response.status == .forbidden, "another site's form cannot sign the browser in (login CSRF)")
                #expect(response.headers[.setCookie] == nil)
            }
            try await client.execute(uri: "/login", method: .post, body: ByteBuffer(string: "key=vglk_not-a-key")) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.setCookie] == nil)
            }
        }
    }

    @Test func everyFormNeedsTheSessionsCSRFToken() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            let (session, _) = try await Self.signIn(client, key: fixture.adminKey)
            #expect(try await Self.post(client, "/settings/integrations/json/off", session, form: "").0 == .forbidden)
            #expect(try await Self.post(client, "/settings/integrations/json/off", session, form: "csrf=forged").0 == .forbidden)
            #expect(try fixture.store().integration(named: "json")?.enabled == true, "a form without the token changed nothing")
            let (other, _) = try await Self.signIn(client, key: fixture.adminKey)
            #expect(try await Self.post(client, "/settings/integrations/json/off", SignedIn(cookie: session.cookie, csrf: other.csrf), form: "csrf=\(other.csrf)").0 == .forbidden,
                    "another session's token does not do")
            let (status, location) = try await Self.post(client, "/settings/integrations/json/off", session, form: "csrf=\(session.csrf)")
            #expect(status == .seeOther && location == "/settings/onboarding?notice=off")
            #expect(try fixture.store().integration(named: "json")?.enabled == false)
        }
    }

    @Test func aReadOnlySessionSeesNoAdminControlsAndIsRefusedAdminActions() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            let (session, _) = try await Self.signIn(client, key: fixture.apiKey)
            let page = try await client.execute(uri: "/", method: .get, headers: [.cookie: session.cookie]) { String(buffer: $0.body) }
            #expect(!page.contains("/settings/onboarding") && page.contains("(read-only)"))
            try await client.execute(uri: "/settings/onboarding", method: .get, headers: [.cookie: session.cookie]) { #expect($0.status == .forbidden) }
            #expect(try await Self.post(client, "/settings/integrations/json/off", session, form: "csrf=\(session.csrf)").0 == .forbidden)
            #expect(try await Self.post(client, "/settings/integrations/json/tokens", session, form: "csrf=\(session.csrf)&valid_for=1h").0 == .forbidden)
            #expect(try fixture.store().integration(named: "json")?.enabled == true)
            #expect(try fixture.store().tokens(integration: "json").count == 1)
        }
    }

    @Test func revokingTheKeyEndsItsSessions() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.router) { client in
            let (session, _) = try await Self.signIn(client, key: fixture.apiKey)
            let store = try fixture.store()
            let id = try #require(try store.apiKeys().first { $0.name == "tester" }?.id)
            try store.revokeAPIKey(id: id, actor: "test")
            try await client.execute(uri: "/alerts", method: .get, headers: [.cookie: session.cookie]) { #expect($0.status == .seeOther) }
            #expect(try await Self.post(client, "/alerts/triage", session, form: "csrf=\(session.csrf)&id=1&status=resolved").0 == .unauthorized)
        }
    }

    @Test func theEmbeddedTemplatesAndAssetsAreTheRepositorysConsoleFolder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../console").standardized
        var onDisk: [String] = []
        for sub in ["templates", "assets"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(sub).path).sorted() {
                onDisk.append("\(sub)/\(name)")
                let text = try String(contentsOf: folder.appendingPathComponent("\(sub)/\(name)"), encoding: .utf8)
                let embedded = ConsoleResources.embedded.first { $0.name == "\(sub)/\(name)" }?.text
                #expect(embedded.map { $0 + "\n" } == text, "console/\(sub)/\(name) drifted from its embedded copy; run scripts/embed-resources.sh")
            }
        }
        #expect(ConsoleResources.embedded.map(\.name).sorted() == onDisk.sorted())
        let renderer = ConsoleRenderer()
        #expect(renderer.assets.keys.sorted() == ["console.css", "console.js"])
    }

    @Test func signInRedirectsOnlyToPathsOnThisServer() {
        #expect(ConsoleController.localPath("/alerts") == "/alerts")
        #expect(ConsoleController.localPath("%2Fmachines%2F3") == "/machines/3")
        for hostile in ["//evil.example", "https://evil.example", "/\\evil.example", "%2F%2Fevil.example", "/alerts?x=1", "javascript:alert(1)", nil] {
            #expect(ConsoleController.localPath(hostile) == "/", "\(hostile ?? "nil")")
        }
    }

    /// The queue reads through the API's one filter type; the detection test's status turns on
    /// the EICAR alert's arrival; bulk triage changes every selected alert and is audited.
    /// One key's sign-ins end that key's own oldest sessions, never another user's; an expired
    /// session is gone; and the store keeps only digests. Alike on both stores.
    @Test(arguments: TestBackend.available) func oneKeyCannotCrowdOutOtherUsersSessions(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let test = try TestStore(backend, in: workspace)
        let store = test.store
        let start = Timestamp.now().microseconds
        func row(_ id: String, key: String, at offset: Int64) -> ConsoleSessionRow {
            ConsoleSessionRow(idHash: id, keyHash: key, name: key, admin: false, csrf: "csrf-\(id)", expires: Timestamp(microseconds: start + 600_000_000 + offset))
        }
        let now = Timestamp(microseconds: start)
        try store.openConsoleSession(row("other", key: "other-key", at: 0), perKey: 3, capacity: 100, now: now)
        for index in 1...5 { try store.openConsoleSession(row("busy-\(index)", key: "busy-key", at: Int64(index)), perKey: 3, capacity: 100, now: now) }
        #expect(try store.consoleSession(idHash: "other", now: now)?.csrf == "csrf-other")
        #expect(try (1...5).filter { try store.consoleSession(idHash: "busy-\($0)", now: now) != nil } == [3, 4, 5], "the key's newest 3")
        // Past the capacity, the oldest of all goes: here, the other key's.
        try store.openConsoleSession(row("late", key: "late-key", at: 10), perKey: 3, capacity: 4, now: now)
        #expect(try store.consoleSession(idHash: "other", now: now) == nil)
        #expect(try store.consoleSession(idHash: "late", now: now) != nil)
        #expect(try store.consoleSession(idHash: "late", now: Timestamp(microseconds: start + 700_000_000)) == nil, "expired")
        try store.closeConsoleSession(idHash: "late")
        #expect(try store.consoleSession(idHash: "late", now: now) == nil)
    }

    /// What the store keeps of a session: digests of its id and key, never either.
    @Test func theStoreKeepsOnlyDigestsOfTheSessionAndItsKey() async throws {
        let fixture = try ServerFixture()
        let service = try IngestService(databasePath: fixture.database, ruleSet: .builtin())
        let sessions = ConsoleSessions(lifetime: .seconds(600), service: service, readers: .sqlite(path: fixture.database))
        let key = "vglk_a-key-nobody-else-has"
        let session = try await sessions.open(key: key, name: "analyst", admin: true)
        let stored = try Store(path: fixture.database).connection.statement("SELECT id_hash || ' ' || key_hash || ' ' || name AS line FROM console_sessions")
            .rows { $0.text("line") }
        #expect(stored.count == 1)
        #expect(!stored[0].contains(session.id) && !stored[0].contains(key) && stored[0].hasSuffix(" analyst"))
        #expect(try await sessions.session(id: session.id)?.keyHash == AccessToken.hash(key))
        #expect(try await sessions.session(id: session.id + "x") == nil)
        try await sessions.close(id: session.id)
        #expect(try await sessions.session(id: session.id) == nil)
    }

    /// The machine list shows a page of machines by host name and links the next one, carrying
    /// host names that need encoding (`+` must not come back as a space).
    @Test func theMachineListPagesByHostName() async throws {
        let fixture = try ServerFixture()
        let perPage = ConsoleController.machinesPerPage
        let hosts = (0..<perPage + 5).map { String(format: "host+%03d", $0) }
        let items = hosts.enumerated().map { index, host in
            BatchItem(event: Event(time: Timestamp(seconds: 1_800_000_000), machine: MachineIdentity(hostname: host, platform: .linux, osVersion: "Ubuntu 22.04"),
                                   sourceFormat: "json", integration: "json", logSource: LogSource(product: "linux", category: "process_creation"),
                                   fields: [EventField(FieldKey("CommandLine"), "ls")], raw: host, line: index + 1),
                      detections: [])
        }
        _ = try BatchCommitter(store: try fixture.store()).write(items, rejected: [], recordsRead: items.count, importID: nil)
        try await fixture.app().test(.router) { client in
            let (session, _) = try await Self.signIn(client, key: fixture.apiKey)
            let get = { (uri: String) in try await client.execute(uri: uri, method: .get, headers: [.cookie: session.cookie]) { String(buffer: $0.body) } }
            let first = try await get("/machines")
            #expect(first.contains(">\(hosts[perPage - 1])<") && !first.contains(">\(hosts[perPage])<"))
            let next = "/machines?after=host%2B\(String(format: "%03d", perPage - 1))"
            #expect(first.contains("href=\"\(next)\""), "the next page starts after the last host name shown")
            let second = try await get(next)
            #expect(hosts[perPage...].allSatisfy { second.contains(">\($0)<") })
            #expect(!second.contains(">\(hosts[perPage - 1])<") && !second.contains("rel=\"next\""))
            #expect(second.contains("href=\"/machines\">First page"))
        }
    }

    @Test func theQueueFiltersAndTriagesAndTheDetectionTestSeesTheEICARAlert() async throws {
        let fixture = try ServerFixture()
        let since = Timestamp.now().microseconds
        let log = try Data(contentsOf: corpusLogs.appendingPathComponent("clamav/clamscan_l.log"))
        try await fixture.app().test(.router) { client in
            let (session, _) = try await Self.signIn(client, key: fixture.apiKey)
            let status = { (machine: String) in
                try await client.execute(uri: "/detection-test/status?since=\(since)&machine=\(machine)", method: .get, headers: [.cookie: session.cookie]) { json($0.body) }
            }
            #expect(try await status("av-host")["received"] as? Bool == false)
            try await client.execute(uri: "/api/v1/ingest?hostname=av-host", method: .post, headers: headers(fixture.clamavToken), body: ByteBuffer(bytes: log)) {
                #expect($0.status == .ok)
            }
            let received = try await status("av-host")
            #expect(received["received"] as? Bool == true && received["hostname"] as? String == "av-host")
            #expect(try await status("other-host")["received"] as? Bool == false, "a named machine's wait ignores the others")

            try await client.execute(uri: "/alerts?severity=bogus", method: .get, headers: [.cookie: session.cookie]) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("severity &#39;bogus&#39; is unknown"))
            }
            let alerts = try fixture.store().alerts(AlertFilter())
            #expect(alerts.count >= 2)
            var full: [Severity: Int] = [:]
            for alert in alerts { full[alert.severity, default: 0] += 1 }
            for cap in [1, 1_000] {
                let counted = try fixture.store().alertCountsBySeverity(AlertFilter(), cap: cap)
                #expect(Severity.allCases.allSatisfy { (counted[$0] ?? 0) == min(full[$0] ?? 0, cap) }, "cap \(cap): \(counted) against \(full)")
            }
            let queue = try await client.execute(uri: "/alerts?machine=av-host&sort=id&order=asc", method: .get, headers: [.cookie: session.cookie]) { String(buffer: $0.body) }
            for alert in alerts { #expect(queue.contains("href=\"/alerts/\(alert.id)\"")) }
            let picked = alerts.prefix(2).map(\.id)
            let form = "csrf=\(session.csrf)&back=%2Falerts&status=resolved&classification=&comment=bulk+check" + picked.map { "&id=\($0)" }.joined()
            #expect(try await Self.post(client, "/alerts/triage", session, form: form) == (.seeOther, "/alerts"))
            let after = try fixture.store().alerts(AlertFilter())
            #expect(after.filter { picked.contains($0.id) }.allSatisfy { $0.status == "resolved" && $0.classification == nil })
            #expect(after.filter { !picked.contains($0.id) }.allSatisfy { $0.status != "resolved" })
            #expect(try fixture.store().comments(alertID: picked[0], incidentID: nil).map(\.text) == ["bulk check"])
            let page = try await client.execute(uri: "/alerts/\(picked[0])", method: .get, headers: [.cookie: session.cookie]) { String(buffer: $0.body) }
            #expect(page.contains("apikey:tester") && page.contains("bulk check"), "the alert page shows the change history and comments")
            // The alert page assigns, and clearing its (prefilled) assignee unassigns.
            let one = "/alerts/\(picked[0])"
            #expect(try await Self.post(client, one, session, form: "csrf=\(session.csrf)&assigned_to=alice") == (.seeOther, one))
            #expect(try fixture.store().alert(id: picked[0])?.assignedTo == "alice")
            #expect(try await Self.post(client, one, session, form: "csrf=\(session.csrf)&assigned_to=+") == (.seeOther, one))
            #expect(try fixture.store().alert(id: picked[0])?.assignedTo?.isEmpty ?? true, "a cleared assignee unassigns")
        }
    }
}
