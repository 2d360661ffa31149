#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import VigilPostgres
import VigilTestSupport
import VigilTooling

/// The read-only commands of the built binary on a PostgreSQL store list what they list on a
/// SQLite store holding the same import, and so do a `vigil serve` node's read routes; triage
/// works on both; a command or route that runs on SQLite only says so.
@Suite(.enabled(if: PostgresTestDatabase.available, "VIGIL_TEST_POSTGRES names no PostgreSQL server"))
struct PostgresCLITests {
    @Test func readCommandsListWhatSQLiteLists() async throws {
        let scratch = TemporaryDirectory()
        let database = try PostgresTestDatabase()
        let postgres = ["--store", database.url.description]
        let sqlite = ["--db", scratch.path("vigil.sqlite")]
        // Thirty failed SSH logins from one address (the brute-force correlation), a line that is not JSON, and an EICAR verdict.
        var lines = (0..<30).map { attempt in
            #"{"@timestamp":"2026-12-01T10:0\#(attempt / 10):\#(String(format: "%02d", attempt % 10 * 5))Z","host":{"name":"Bastion-01"},"logsource":{"product":"linux","service":"sshd"},"message":"Failed password for root from 203.0.113.9 port \#(40_000 + attempt) ssh2","SourceIp":"203.0.113.9"}"#
        }
        lines.insert("not json", at: 5)
        let file = try scratch.write("events.ndjson", lines.joined(separator: "\n") + "\n")
        for store in [postgres, sqlite] {
            for setUp in [["init"], ["integration", "on", "json"], ["import", file, "--integration", "json"]] {
                let result = try await vigil(setUp + store, in: scratch.url)
                #expect(result.status == 0, "\(setUp): \(result.stderr)")
            }
        }

        /// The command's rows as JSON lines, with the fields each store numbers or stamps itself left out.
        func rows(_ command: [String], _ store: [String]) async throws -> [String] {
            let result = try await vigil(command + store + ["--format", "jsonl"], in: scratch.url)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            let unstable: Set<String> = ["id", "import_id", "machine_id", "incident_id", "created_at", "started", "finished", "time", "added"]
            let rows = try result.stdout.split(separator: "\n").map { line in
                var row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                for key in unstable where !(command == ["events"] && key == "time") { row[key] = nil }
                return String(decoding: try JSONSerialization.data(withJSONObject: row, options: .sortedKeys), as: UTF8.self)
            }
            // The compatibility list's order is its own (versions numerically), so compare it as listed.
            return command == ["compatibility"] ? rows : rows.sorted()
        }
        let ruleID = "0d6a7c52-3c1e-4b8e-9b7a-51f1f0a3c0de"
        let ruleFile = try scratch.write("rule.yml", """
            title: Root login from the bastion
            id: \(ruleID)
            status: experimental
            logsource:
                product: linux
                service: sshd
            detection:
                selection:
                    message|contains: 'Failed password for root'
                condition: selection
            level: medium
            """)
        for store in [postgres, sqlite] {
            for command in [["rules", "add", ruleFile], ["rules", "add", ruleFile], ["rules", "disable", ruleID]] {
                let result = try await vigil(command + store, in: scratch.url)
                #expect(result.status == 0, "\(command): \(result.stderr)")
            }
            let added = try await vigil(["compatibility", "add", "--platform", "linux", "--distribution", "Ubuntu", "--version", "26.04",
                                         "--note", "next LTS"] + store, in: scratch.url)
            #expect(added.status == 0, "\(added.stderr)")
        }
        for command in [["alerts"], ["alerts", "--summary"], ["incidents"], ["machines"], ["events"], ["imports"], ["rejected"],
                        ["audit", "--action", "integration"], ["audit", "--action", "compatibility"], ["compatibility"],
                        ["audit", "--action", "rule"], ["rules", "list"], ["rules", "history", ruleID]] {
            let expected = try await rows(command, sqlite)
            #expect(!expected.isEmpty, "\(command) lists nothing on SQLite")
            #expect(try await rows(command, postgres) == expected, "\(command)")
        }

        let ruleListing = try await vigil(["rules", "list", "--format", "jsonl"] + postgres, in: scratch.url).stdout
        #expect(ruleListing.contains(ruleID) && ruleListing.contains(#""enabled":false"#), "the stored rule, disabled")
        let verify = try await vigil(["detection-test", "--verify", "--timeout", "1s"] + postgres, in: scratch.url)
        #expect(verify.status == 1 && verify.stderr.contains("no EICAR alert"), "\(verify.stderr)")

        let alerts = try await vigil(["alerts", "--format", "jsonl"] + postgres, in: scratch.url)
        let alertID = try #require(alerts.stdout.split(separator: "\n").first.flatMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["id"] as? Int)
        let shown = try await vigil(["alert", "show", String(alertID)] + postgres, in: scratch.url)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("events ("))

        // Triage on PostgreSQL, audited there.
        let update = try await vigil(["alert", "update", String(alertID), "--set-status", "in-progress", "--comment", "looking"] + postgres,
                                     in: scratch.url)
        #expect(update.status == 0, "\(update.stderr)")
        let updated = try await vigil(["alert", "show", String(alertID), "--format", "json"] + postgres, in: scratch.url)
        #expect(updated.stdout.contains(#""status":"in_progress""#) && updated.stdout.contains("looking"), "\(updated.stdout)")
        #expect(try await rows(["audit", "--action", "alert"], postgres).count == 1)
        // Hunting SQL on PostgreSQL runs as a role that reads the hunting views only.
        let hunting = "SELECT hostname, count(*) AS n, min(time) AS first FROM events GROUP BY hostname ORDER BY n DESC"
        let unset = try await vigil(["query", hunting] + postgres, in: scratch.url)
        #expect(unset.status != 0 && unset.stderr.contains("--hunting-role"), "\(unset.stderr)")
        let hunter = try database.loginRole()
        let granted = try await vigil(["init", "--hunting-role", hunter.name] + postgres, in: scratch.url)
        #expect(granted.status == 0, "\(granted.stderr)")
        let hunterStore = ["--hunting-store", hunter.url.description]
        let hunted = try await vigil(["query", hunting, "--format", "jsonl"] + postgres + hunterStore, in: scratch.url)
        #expect(hunted.status == 0, "\(hunted.stderr)")
        let huntedOnSQLite = try await vigil(["query", hunting, "--format", "jsonl"] + sqlite, in: scratch.url)
        #expect(hunted.stdout == huntedOnSQLite.stdout && !hunted.stdout.isEmpty, "\(hunted.stdout) against \(huntedOnSQLite.stdout)")
        let owner = try await vigil(["query", hunting] + postgres + ["--hunting-store", database.url.description], in: scratch.url)
        #expect(owner.status != 0 && owner.stderr.contains("can read more than the hunting views"), "\(owner.stderr)")

        // A node's read routes answer from the same store, through its pool of read connections.
        let key = try await vigil(["apikey", "create", "reader"] + postgres, in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.count > 20)
        let node = try await ScaleOutTests.startNode(store: database.url.description, in: scratch, index: 0)
        defer { node.process.terminate() }
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        func request(_ path: String, method: String = "GET", body: String? = nil) async throws -> (status: Int, body: Any?) {
            var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(node.port)/api/v1/\(path)")))
            request.httpMethod = method
            request.timeoutInterval = 30
            request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
            request.httpBody = body.map { Data($0.utf8) }
            let (data, response) = try await session.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? -1, try? JSONSerialization.jsonObject(with: data))
        }
        // Several requests at once share the pool's connections.
        async let alertsPage = request("alerts?limit=1000")
        async let incidentsPage = request("incidents")
        async let machinesPage = request("machines")
        async let integrationsPage = request("integrations")
        let (alertsAnswer, incidentsAnswer, machinesAnswer, integrationsAnswer) = try await (alertsPage, incidentsPage, machinesPage, integrationsPage)
        let listed = try #require((alertsAnswer.body as? [String: Any])?["alerts"] as? [[String: Any]])
        let cliAlerts = try await vigil(["alerts", "--format", "json", "--limit", "1000"] + postgres, in: scratch.url)
        let cliListed = try #require(try JSONSerialization.jsonObject(with: Data(cliAlerts.stdout.utf8)) as? [[String: Any]])
        #expect(alertsAnswer.status == 200 && listed.map { $0["id"] as? Int } == cliListed.map { $0["id"] as? Int } && !listed.isEmpty)
        #expect(incidentsAnswer.status == 200 && machinesAnswer.status == 200 && integrationsAnswer.status == 200)
        let detail = try await request("alerts/\(alertID)")
        #expect(detail.status == 200)
        #expect(((detail.body as? [String: Any])?["events"] as? [Any])?.isEmpty == false)
        #expect(try await request("alerts/999999").status == 404)
        #expect(try await request("alerts/\(alertID)", method: "PATCH", body: #"{"status":"resolved"}"#).status == 200)
        #expect(try await rows(["alerts", "--status", "resolved"], postgres).count == 1)
        #expect(try await request("subscriptions").status == 403, "served, to admin keys")
        let events = try await request("events?limit=1000")
        let eventRows = try #require((events.body as? [String: Any])?["events"] as? [[String: Any]])
        #expect(events.status == 200 && eventRows.count == 30, "\(events.status): \(eventRows.count) events")
        let machineID = try #require(((machinesAnswer.body as? [String: Any])?["machines"] as? [[String: Any]])?.first?["id"] as? Int)
        let timeline = try await request("machines/\(machineID)/timeline")
        #expect(timeline.status == 200, "\(timeline.status)")
        #expect(try await request("query", method: "POST", body: #"{"sql":"SELECT 1"}"#).status == 501)

        // The web console on the node: sign in with an admin key, then its pages read the same store.
        let admin = try await vigil(["apikey", "create", "console-admin", "--admin"] + postgres, in: scratch.url).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        func page(_ path: String, cookie: String? = nil, form: String? = nil, port: Int? = nil) async throws
            -> (status: UInt, location: String?, cookie: String?, body: String) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port ?? node.port)\(path)")
            if let cookie { request.headers.add(name: "Cookie", value: cookie) }
            if let form {
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: form))
            }
            let response = try await browser.execute(request, timeout: .seconds(30))
            let body = String(buffer: try await response.body.collect(upTo: 4 << 20))
            return (response.status.code, response.headers["Location"].first, response.headers["Set-Cookie"].first, body)
        }
        let signIn = try await page("/login", form: "key=\(admin)&next=%2Falerts")
        #expect(signIn.status == 303 && signIn.location == "/alerts", "\(signIn.status) \(signIn.body.prefix(300))")
        let cookie = try #require(signIn.cookie?.split(separator: ";").first.map(String.init))
        let queue = try await page("/alerts", cookie: cookie)
        #expect(queue.status == 200 && queue.body.contains("/alerts/\(alertID)") && queue.body.contains("Bastion-01"), "\(queue.body.prefix(500))")
        let alertPage = try await page("/alerts/\(alertID)", cookie: cookie)
        #expect(alertPage.status == 200 && alertPage.body.contains("203.0.113.9"))
        for path in ["/", "/incidents", "/machines", "/detection-test"] {
            #expect(try await page(path, cookie: cookie).status == 200, "\(path)")
        }
        let onboarding = try await page("/settings/onboarding", cookie: cookie)
        #expect(onboarding.status == 200 && onboarding.body.contains("26.04") && onboarding.body.contains("next LTS"), "the compatibility list")
        #expect(try await page("/alerts").status == 303, "no session, no page")

        // The session is the store's: another node knows it, and signing out there ends it here.
        let other = try await ScaleOutTests.startNode(store: database.url.description, in: scratch, index: 1, arguments: hunterStore)
        defer { other.process.terminate() }
        var query = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(other.port)/api/v1/query")))
        query.httpMethod = "POST"
        query.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        query.httpBody = try JSONSerialization.data(withJSONObject: ["sql": hunting])
        let (answer, response) = try await session.data(for: query)
        let answered = try #require(try JSONSerialization.jsonObject(with: answer) as? [String: Any])
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(answered)")
        #expect(answered["columns"] as? [String] == ["hostname", "n", "first"] && (answered["rows"] as? [[Any]])?.count == 1, "\(answered)")
        #expect(try await page("/alerts/\(alertID)", cookie: cookie, port: other.port).status == 200, "signed in on the other node too")
        let csrf = try #require(queue.body.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression).map {
            String(queue.body[$0].dropFirst(#"name="csrf" value=""#.count).dropLast()) })
        #expect(try await page("/logout", cookie: cookie, form: "csrf=\(csrf)", port: other.port).location == "/login")
        #expect(try await page("/alerts", cookie: cookie).status == 303, "signed out on every node")
        try await browser.shutdown()
    }

    /// Custom detections on PostgreSQL: saved and run from the CLI as the hunting role, and run
    /// by the nodes, where each due run is claimed by one node.
    @Test func customDetectionsRunFromTheCLIAndOnceAcrossNodes() async throws {
        let scratch = TemporaryDirectory()
        let database = try PostgresTestDatabase()
        let store = ["--store", database.url.description]
        let hunter = try database.loginRole()
        for setUp in [["init", "--hunting-role", hunter.name], ["integration", "on", "json"]] {
            let result = try await vigil(setUp + store, in: scratch.url)
            #expect(result.status == 0, "\(setUp): \(result.stderr)")
        }
        let hunting = ["--hunting-store", hunter.url.description]
        let file = try scratch.write("events.ndjson", ScaleOutTests.bruteForceLines().joined(separator: "\n") + "\n")
        #expect(try await vigil(["import", file, "--integration", "json", "--rules", "builtin"] + store, in: scratch.url).status == 0)
        let query = "SELECT max(id) AS event_id, field(fields, 'SourceIp') AS key, count(*) AS failures FROM events GROUP BY hostname, key"
        let unset = try await vigil(["detections", "add", "cli-run", "--query", query, "--title", "Failures by source"] + store, in: scratch.url)
        #expect(unset.status != 0 && unset.stderr.contains("--hunting-role"), "\(unset.stderr)")
        let noEventID = try await vigil(["detections", "add", "bad", "--query", "SELECT 1 AS one", "--title", "Bad"] + store + hunting,
                                        in: scratch.url)
        #expect(noEventID.status != 0 && noEventID.stderr.contains("event_id"), "\(noEventID.stderr)")
        let added = try await vigil(["detections", "add", "cli-run", "--query", query, "--title", "Failures by source"] + store + hunting,
                                    in: scratch.url)
        #expect(added.status == 0, "\(added.stderr)")
        let ran = try await vigil(["detections", "run", "cli-run"] + store + hunting, in: scratch.url)
        #expect(ran.status == 0 && ran.stdout.contains("1 alerts opened"), "\(ran.stdout) \(ran.stderr)")
        #expect(try await vigil(["detections", "run", "cli-run"] + store + hunting, in: scratch.url).stdout.contains("1 already raised"))

        // Saved before the nodes start, so both find it due; its query takes 3 s, so the second node
        // starts while the first still runs it, and only the first node's claim keeps the second out.
        let slow = "SELECT max(id) AS event_id, field(fields, 'SourceIp') AS key, count(*) AS failures FROM events, pg_sleep(3) GROUP BY hostname, key"
        #expect(try await vigil(["detections", "add", "on-nodes", "--query", slow, "--title", "On the nodes"] + store + hunting,
                                in: scratch.url).status == 0)
        var nodes: [ScaleOutTests.Node] = []
        defer { for node in nodes { node.process.terminate() } }
        for index in 0..<2 { nodes.append(try await ScaleOutTests.startNode(store: database.url.description, in: scratch, index: index, arguments: hunting)) }
        let opened = await DeliveryEndToEndTests.eventually(timeout: .seconds(30)) {
            nodes.map { (try? String(contentsOf: $0.log, encoding: .utf8)) ?? "" }.joined().contains("custom detection on-nodes:")
        }
        #expect(opened, "no node ran the detection")
        try await Task.sleep(for: .seconds(5))  // time for the other node's run to end, were there one
        let logs = try nodes.map { try String(contentsOf: $0.log, encoding: .utf8) }.joined()
        #expect(logs.components(separatedBy: "custom detection on-nodes:").count - 1 == 1, "run once across the nodes")
        let listed = try await vigil(["detections", "list", "--format", "jsonl"] + store, in: scratch.url).stdout
        #expect(listed.contains(#""last_outcome":"1 rows: 1 alerts opened"#), "\(listed)")
    }

    /// Three nodes on one store deliver one webhook subscription: alerts pushed to any node reach
    /// the receiver once each, since a node sends a subscription only while it holds its lease,
    /// and a stream on one node shows the alerts the others raised, in outbox order.
    @Test func nodesDeliverEachAlertOnceAndStreamWhatAnyNodeRaised() async throws {
        let scratch = TemporaryDirectory()
        let database = try PostgresTestDatabase()
        let store = ["--store", database.url.description]
        let receiver = try await WebhookReceiver.start()
        defer { receiver.stop() }
        for setUp in [["init"], ["integration", "on", "json"]] {
            let result = try await vigil(setUp + store, in: scratch.url)
            #expect(result.status == 0, "\(setUp): \(result.stderr)")
        }
        let added = try await vigil(["notify", "add", "hook", "--webhook", receiver.url] + store, in: scratch.url)
        #expect(added.status == 0, "\(added.stderr)")
        let secret = DeliveryEndToEndTests.secret(of: added)
        let token = try await vigil(["integration", "token", "json"] + store, in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try await vigil(["apikey", "create", "stream-reader"] + store, in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var nodes: [ScaleOutTests.Node] = []
        defer { for node in nodes { node.process.terminate() } }
        for index in 0..<3 {
            nodes.append(try await ScaleOutTests.startNode(store: database.url.description, in: scratch, index: index,
                                                           arguments: ["--rules", "builtin", "--delivery-interval", "100ms"]))
        }
        let stream = try await SSEConnection(client: .shared, url: "http://127.0.0.1:\(nodes[0].port)/api/v1/alerts/stream?on=alert.created", key: key)
        defer { stream.close() }

        // Thirty findings, each its own alert, ten pushed to each node, two pushes at a time.
        let ports = nodes.map(\.port)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for pusher in 0..<2 {
                group.addTask {
                    var failures = 0
                    for finding in stride(from: pusher, to: 30, by: 2) {
                        let line = DeliveryEndToEndTests.finding("Unix.Trojan.Node-\(finding)", host: "web-\(finding % 5)", second: finding)
                        if try await DeliveryEndToEndTests.push([line], port: ports[finding % 3], token: token) != 200 { failures += 1 }
                    }
                    return failures
                }
            }
            let failures = try await group.reduce(0, +)
            #expect(failures == 0, "every push is acknowledged")
        }
        let streamed = try await stream.next(30)
        #expect(await DeliveryEndToEndTests.eventually(timeout: .seconds(60)) { receiver.accepted.count >= 30 }, "\(receiver.accepted.count) delivered")
        try await Task.sleep(for: .milliseconds(500))  // time for a second sending, were there one

        let alerts = try await vigil(["alerts", "--format", "jsonl", "--limit", "100"] + store, in: scratch.url).stdout.split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.compactMap { $0["id"] as? Int }
        #expect(alerts.count == 30)
        let received = receiver.received
        #expect(received.count == 30, "each alert sent once, by one node: \(received.count) requests")
        #expect(Set(received.map(\.eventID)).count == received.count)
        #expect(received.allSatisfy { $0.eventType == "alert.created" && DeliveryEndToEndTests.signatureHolds($0.signature, body: $0.body, secret: secret) })
        let deliveredAlerts = received.compactMap { request in
            ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]).flatMap { ($0["alert"] as? [String: Any])?["id"] as? Int }
        }
        #expect(deliveredAlerts.sorted() == alerts.sorted())
        let deliveredIDs = received.compactMap { Int($0.eventID) }
        #expect(deliveredIDs == deliveredIDs.sorted(), "in outbox order")
        #expect(streamed.map(\.alert).sorted() == alerts.sorted(), "the stream on node 0 shows every node's alerts")
        #expect(streamed.map(\.id) == streamed.map(\.id).sorted())

        let state = try #require(try await vigil(["notify", "status", "hook", "--format", "jsonl"] + store, in: scratch.url).stdout
            .split(separator: "\n").first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
        #expect(state["delivered"] as? Int == 30)
        #expect(state["backlog"] as? Int == 0)
    }
}
