#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing
import VigilTooling

/// Delivery with the built binary against real receivers on loopback: a webhook receiver,
/// syslog-ng, and a live-stream client. The built-in rules keep the servers light beside the
/// suites running in parallel.
@Suite(.serialized) struct DeliveryEndToEndTests {
    /// An antivirus finding: each distinct signature on a machine is an alert of its own.
    static func finding(_ signature: String, host: String = "web-01", second: Int = 0) -> String {
        let time = String(format: "2026-11-27T10:%02d:%02dZ", (second / 60) % 60, second % 60)
        return #"{"@timestamp":"\#(time)","host":{"name":"\#(host)","os":{"platform":"linux"}},"logsource":{"category":"antivirus"},"Signature":"\#(signature)"}"#
    }

    static func importFindings(_ lines: [String], in scratch: TemporaryDirectory) async throws {
        let file = try scratch.write("findings-\(UUID().uuidString).ndjson", lines.joined(separator: "\n"))
        let result = try await vigil(["import", file, "--integration", "json", "--rules", "builtin"], in: scratch.url)
        #expect(result.status == 0, "\(result.stderr)")
    }

    static func push(_ lines: [String], port: Int, token: String) async throws -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/ingest?format=json")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(lines.joined(separator: "\n").utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    /// The signature check the README gives receivers: HMAC-SHA-256 over `<t>.<body>` with the
    /// subscription's secret, and `t` within five minutes.
    static func signatureHolds(_ header: String, body: [UInt8], secret: String) -> Bool {
        var parts: [String: String] = [:]
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { parts[pair[0]] = pair[1] }
        }
        guard let t = parts["t"], let seconds = Int(t), abs(Int(Date().timeIntervalSince1970) - seconds) <= 300, let v1 = parts["v1"] else { return false }
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(t).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined() == v1
    }

    /// Waits for `condition`, checking every 50 ms with an async sleep: the cooperative threads
    /// stay free for the in-process servers of the suites running in parallel.
    static func eventually(timeout: Duration = .seconds(60), _ condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }

    static func alertIDs(in lines: [String]) -> Set<Int> {
        Set(lines.compactMap { line -> Int? in
            guard let range = line.range(of: #"alert_id="\d+""#, options: .regularExpression) else { return nil }
            return Int(line[range].dropFirst(10).dropLast())
        })
    }

    static func secret(of result: CommandResult) -> String { result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    static func status(_ name: String, in scratch: TemporaryDirectory) async throws -> [String: Any] {
        let output = try await vigil(["notify", "status", name, "--format", "jsonl"], in: scratch.url).stdout
        let line = output.split(separator: "\n").first.map(String.init) ?? "{}"
        return (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
    }

    // MARK: Webhooks

    @Test func aWebhookIsSignedRetriedFiveTimesAndThenDelivered() async throws {
        let scratch = TemporaryDirectory()
        let receiver = try await WebhookReceiver.start { number in number <= 5 ? .fail(.serviceUnavailable) : .ok }
        defer { receiver.stop() }
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let added = try await vigil(["notify", "add", "hook", "--webhook", receiver.url], in: scratch.url)
        #expect(added.status == 0, "\(added.stderr)")
        let secret = Self.secret(of: added)
        #expect(secret.count == 64)
        try await Self.importFindings([Self.finding("Unix.Trojan.Mirai-1")], in: scratch)

        let delivered = try await vigil(["deliver", "--retry-delay", "50ms", "--retry-max-delay", "400ms", "--timeout", "60s"], in: scratch.url)
        #expect(delivered.status == 0, "\(delivered.stderr)")
        let requests = receiver.received
        #expect(requests.count == 6, "5 failures and the delivery: \(requests.count)")
        #expect(Set(requests.map(\.eventID)).count == 1, "every try carries the same event id")
        #expect(requests.allSatisfy { Self.signatureHolds($0.signature, body: $0.body, secret: secret) }, "a signature does not verify")
        #expect(!Self.signatureHolds(requests[0].signature, body: requests[0].body + [10], secret: secret))
        let body = try #require(try JSONSerialization.jsonObject(with: Data(requests[5].body)) as? [String: Any])
        #expect(body["type"] as? String == "alert.created")
        #expect((body["alert"] as? [String: Any])?["hostname"] as? String == "web-01")
        #expect(receiver.accepted == [requests[5].eventID])

        let state = try await Self.status("hook", in: scratch)
        #expect(state["delivered"] as? Int == 1)
        #expect(state["attempts"] as? Int == 0)
        #expect(state["backlog"] as? Int == 0)
        // The last failed try's error is kept (a 503, or a timeout on a slow machine).
        #expect(state["last_error"] as? String != nil, "\(state)")
        // Nothing is sent twice once delivered.
        #expect(try await vigil(["deliver", "--timeout", "5s"], in: scratch.url).status == 0)
        #expect(receiver.received.count == 6)
    }

    @Test func aWebhookThatNeverAnswersWellBecomesADeadLetterAndCanBeRedelivered() async throws {
        let scratch = TemporaryDirectory()
        let receiver = try await WebhookReceiver.start { _ in .fail(.internalServerError) }
        defer { receiver.stop() }
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let secret = Self.secret(of: try await vigil(["notify", "add", "hook", "--webhook", receiver.url, "--format", "slack"], in: scratch.url))
        try await Self.importFindings([Self.finding("Unix.Trojan.Mirai-1"), Self.finding("Unix.Trojan.Gafgyt-2", second: 1)], in: scratch)

        let run = try await vigil(["deliver", "--retry-delay", "20ms", "--retry-max-delay", "50ms", "--webhook-attempts", "3", "--timeout", "60s"], in: scratch.url)
        #expect(run.status == 0, "dead letters leave nothing behind: \(run.stderr)")
        #expect(receiver.received.count == 6, "3 tries of each alert")
        var state = try await Self.status("hook", in: scratch)
        #expect(state["dead_letters"] as? Int == 2)
        let listing = try await vigil(["notify", "status", "hook"], in: scratch.url)
        #expect(listing.stderr.contains("2 dead letters"))
        #expect(listing.stdout.contains("500"))

        receiver.answer { _ in .ok }
        #expect(try await vigil(["notify", "redeliver", "hook"], in: scratch.url).stdout.contains("2 dead letters queued again"))
        #expect(try await vigil(["deliver", "--retry-delay", "20ms", "--timeout", "30s"], in: scratch.url).status == 0)
        #expect(receiver.accepted.count == 2)
        let slack = try #require(try JSONSerialization.jsonObject(with: Data(receiver.received.last!.body)) as? [String: Any])
        #expect((slack["text"] as? String)?.contains("web-01") == true)
        #expect(receiver.received.allSatisfy { Self.signatureHolds($0.signature, body: $0.body, secret: secret) })
        state = try await Self.status("hook", in: scratch)
        #expect(state["dead_letters"] as? Int == 0)
        let audit = try await vigil(["audit", "--format", "jsonl"], in: scratch.url).stdout
        #expect(audit.contains("notify.add") && audit.contains("notify.redeliver"))
    }

    @Test func killDashNineBetweenCommitAndDeliveryDeliversExactlyOnceAfterRestart() async throws {
        let scratch = TemporaryDirectory()
        // Every POST is taken in and never answered until the server is dead: it dies holding one.
        let receiver = try await WebhookReceiver.start { _ in .stall }
        defer { receiver.stop() }
        let server = try await RunningServer.start(in: scratch, integration: "json", arguments: ["--rules", "builtin", "--delivery-interval", "100ms"])
        #expect(try await vigil(["notify", "add", "hook", "--webhook", receiver.url], in: scratch.url).status == 0)
        #expect(try await Self.push([Self.finding("Unix.Trojan.Mirai-1")], port: server.port, token: server.token) == 200)
        #expect(await Self.eventually(timeout: .seconds(30)) { receiver.received.count >= 1 }, "the alert was never sent")
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        #expect(receiver.accepted.isEmpty)
        receiver.answer { _ in .ok }

        let port = Int.random(in: 20_000...32_000)
        let restarted = try ReliabilityTests.start(["serve", "--port", String(port), "--rules", "builtin", "--delivery-interval", "100ms"], in: scratch.url)
        defer { restarted.terminate(); restarted.waitUntilExit() }
        #expect(await Self.eventually(timeout: .seconds(30)) { !receiver.accepted.isEmpty }, "the restarted server did not deliver")
        try await Task.sleep(for: .milliseconds(500))
        let alertEventIDs = receiver.received.filter { $0.eventType == "alert.created" }.map(\.eventID)
        #expect(alertEventIDs.count >= 2, "sent before the kill and again after it: \(alertEventIDs)")
        #expect(Set(alertEventIDs).count == 1, "both tries carry one event id")
        #expect(receiver.accepted == [alertEventIDs[0]], "the deduplicating receiver took it exactly once")
        let (metrics, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/metrics")!)
        #expect(String(decoding: metrics, as: UTF8.self).contains(#"vigil_delivery_sent_total{subscription="hook"} 1"#))
    }

    // MARK: Syslog

    @Test func aThousandAlertsReachSyslogNGAcrossARestartOfIt() async throws {
        let scratch = TemporaryDirectory()
        let syslogFolder = TemporaryDirectory()
        let syslog = try SyslogNG(in: syslogFolder)
        try syslog.start()
        defer { syslog.stop() }
        let server = try await RunningServer.start(in: scratch, integration: "json",
                                                   arguments: ["--rules", "builtin", "--push-rate", "0", "--delivery-interval", "50ms", "--retry-delay", "100ms", "--retry-max-delay", "500ms"])
        defer { server.stop() }
        #expect(try await vigil(["notify", "add", "siem", "--syslog", "127.0.0.1:\(syslog.port)", "--format", "rfc5424"], in: scratch.url).status == 0)

        // 40 pushes of 25 new alerts; syslog-ng stops after the 16th and starts again after the
        // 20th, so delivery fails, retries and resumes while pushes go on.
        let total = 1_000, perPush = 25
        for push in 0..<(total / perPush) {
            let lines = (0..<perPush).map { Self.finding("Test.Malware-\(push)-\($0)", host: "host-\(push % 8)", second: $0) }
            #expect(try await Self.push(lines, port: server.port, token: server.token) == 200)
            if push == 15 {
                // syslog-ng confirms a batch by closing once it has read it, but a stop drops
                // what it has read and not yet written (seen once in CI: ten alerts delivered
                // just before the stop never reached its file). So the alerts so far are let
                // through first; the ones pushed while it is down are what must not be lost.
                _ = await Self.eventually(timeout: .seconds(30)) { Self.alertIDs(in: syslog.lines).count >= (push + 1) * perPush }
                syslog.stop()
            }
            if push == 19 {
                try await Task.sleep(for: .milliseconds(300))
                try syslog.start()
            }
        }
        let arrived = await Self.eventually(timeout: .seconds(120)) { Self.alertIDs(in: syslog.lines).count >= total }
        let lag = arrived ? "" : "\((try? await Self.status("siem", in: scratch)).map { "\($0)" } ?? "")"
        #expect(arrived, "delivery did not catch up: \(lag)")
        let received = Self.alertIDs(in: syslog.lines)
        let alerts = try await vigil(["alerts", "--limit", "1000", "--format", "jsonl"], in: scratch.url).stdout
            .split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.compactMap { $0["id"] as? Int }
        #expect(alerts.count == total)
        #expect(Set(received) == Set(alerts), "missing at the receiver: \(Set(alerts).subtracting(received).sorted().prefix(10))")
        #expect(syslog.lines.allSatisfy { $0.contains("[vigil@32473 event_id=") }, "\(syslog.lines.first ?? "")")
        let state = try await Self.status("siem", in: scratch)
        #expect((state["last_error"] as? String)?.contains("connect") == true, "the restart went unnoticed: \(state)")
    }

    @Test func syslogOverTLSTrustsTheGivenCAAndRefusesAnUntrustedReceiver() async throws {
        let scratch = TemporaryDirectory()
        let syslogFolder = TemporaryDirectory()
        let key = syslogFolder.path("key.pem"), certificate = syslogFolder.path("cert.pem")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        let syslog = try SyslogNG(in: syslogFolder, tls: (key, certificate))
        try syslog.start()
        defer { syslog.stop() }
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        #expect(try await vigil(["notify", "add", "untrusted", "--syslog", "localhost:\(syslog.port)", "--tls"], in: scratch.url).status == 0)
        #expect(try await vigil(["notify", "add", "siem", "--syslog", "localhost:\(syslog.port)", "--tls", "--ca-file", certificate], in: scratch.url).status == 0)
        try await Self.importFindings([Self.finding("Unix.Trojan.Mirai-1")], in: scratch)

        let run = try await vigil(["deliver", "--retry-delay", "50ms", "--timeout", "3s"], in: scratch.url)
        #expect(run.status == 1, "the untrusted receiver stays behind")
        #expect(run.stderr.contains("untrusted"))
        #expect(try await Self.status("siem", in: scratch)["delivered"] as? Int == 1)
        let untrusted = try await Self.status("untrusted", in: scratch)
        #expect(untrusted["delivered"] as? Int == 0)
        #expect((untrusted["last_error"] as? String)?.lowercased().contains("certificate") == true, "\(untrusted)")
        #expect(await Self.eventually(timeout: .seconds(10)) { syslog.lines.count == 1 })
        #expect(syslog.lines.first?.contains("CEF:0|Vigil|Vigil|1|") == true, "\(syslog.lines)")
    }

    // MARK: The live stream

    @Test func aStreamClientThatDisconnectsAndResumesSeesEveryAlertExactlyOnce() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "json", arguments: ["--rules", "builtin", "--push-rate", "0"])
        defer { server.stop() }
        let key = try await vigil(["apikey", "create", "stream-reader"], in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let client = HTTPClient.shared
        let url = "http://127.0.0.1:\(server.port)/api/v1/alerts/stream?on=alert.created"

        var seen: [(id: Int, alert: Int)] = []
        // First connection: three alerts, then the client goes away.
        let first = try await SSEConnection(client: client, url: url, key: key)
        for batch in 0..<3 { #expect(try await Self.push([Self.finding("A-\(batch)")], port: server.port, token: server.token) == 200) }
        seen += try await first.next(3)
        first.close()
        // While nobody listens: three more.
        for batch in 3..<6 { #expect(try await Self.push([Self.finding("A-\(batch)")], port: server.port, token: server.token) == 200) }
        let second = try await SSEConnection(client: client, url: url, key: key, lastEventID: seen.last?.id)
        for batch in 6..<8 { #expect(try await Self.push([Self.finding("A-\(batch)")], port: server.port, token: server.token) == 200) }
        seen += try await second.next(5)
        second.close()

        let alerts = try await vigil(["alerts", "--format", "jsonl"], in: scratch.url).stdout.split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.compactMap { $0["id"] as? Int }
        #expect(alerts.count == 8)
        #expect(seen.map(\.alert).sorted() == alerts.sorted(), "every alert once: \(seen)")
        #expect(seen.map(\.id) == seen.map(\.id).sorted(), "event ids rise")

        // A bad Last-Event-ID is refused plainly; a read key is enough, no key is not.
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Last-Event-ID", value: "yesterday")
        #expect(try await client.execute(request, timeout: .seconds(10)).status.code == 400)
        #expect(try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10)).status.code == 401)
    }
}

/// A Server-Sent Events connection read event by event.
final class SSEConnection {
    private var iterator: HTTPClientResponse.Body.AsyncIterator?
    private var pending = ""

    init(client: HTTPClient, url: String, key: String, lastEventID: Int? = nil) async throws {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await client.execute(request, timeout: .seconds(3600))
        #expect(response.status.code == 200)
        #expect(response.headers["Content-Type"].first == "text/event-stream")
        iterator = response.body.makeAsyncIterator()
    }

    /// The next `count` events' ids and alert ids (comments skipped), within 30 s.
    func next(_ count: Int) async throws -> [(id: Int, alert: Int)] {
        var events: [(id: Int, alert: Int)] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while events.count < count, ContinuousClock.now < deadline {
            while let end = pending.range(of: "\n\n") {
                let block = pending[..<end.lowerBound]
                pending.removeSubrange(..<end.upperBound)
                var id: Int?, alert: Int?
                for line in block.split(separator: "\n") {
                    if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
                    if line.hasPrefix("data: "), let object = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any] {
                        alert = (object["alert"] as? [String: Any])?["id"] as? Int
                    }
                }
                if let id, let alert { events.append((id, alert)) }
            }
            guard events.count < count, var iterator else { break }
            let chunk = try await iterator.next()
            self.iterator = iterator
            guard let chunk else { break }
            pending += String(buffer: chunk)
        }
        return events
    }

    /// Drops the connection: with its body's iterator gone, AsyncHTTPClient cancels the request.
    func close() {
        iterator = nil
        pending = ""
    }
}
