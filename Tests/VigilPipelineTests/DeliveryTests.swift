import Crypto
import Foundation
import Testing
import VigilTestSupport
import VigilTooling
import VigilDetection
import VigilIngest
import VigilModel
import VigilPipeline
@testable import VigilStore

/// The outbox is written with the alert, and each format carries the change faithfully and
/// safely, whatever the data holds.
@Suite(.runsOn(.busy)) struct DeliveryTests {
    func antivirus(_ time: String, host: String, signature: String = "Unix.Trojan.Mirai-1") -> String {
        #"{"@timestamp":"\#(time)","hostname":"\#(host)","os_platform":"linux","logsource":{"category":"antivirus"},"Signature":"\#(signature)"}"#
    }

    func importJSON(_ store: TestStore, _ workspace: TemporaryDirectory, _ lines: [String]) throws {
        let path = try workspace.write("events-\(UUID().uuidString).ndjson", lines.joined(separator: "\n"))
        _ = try store.pipeline(ruleSet: .builtin()).importFiles([path], format: .fixed(.json), integration: "json", actor: "test")
    }

    @Test(arguments: TestBackend.available) func everyNewAlertTriageChangeAndIncidentIsInTheOutboxInCommitOrder(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let test = try TestStore(backend, in: workspace)
        let store = test.store
        try importJSON(test, workspace, [antivirus("2026-03-03T10:00:00Z", host: "web-01"), antivirus("2026-03-03T10:00:05Z", host: "web-01")])
        var entries = try store.outbox(after: 0, limit: 100)
        // One alert (the second detection folds into it, which is no change a subscriber asked for) and its incident.
        #expect(entries.map(\.kind) == [.alertCreated, .incidentCreated])
        let alert = try #require(entries[0].alert)
        #expect(entries[1].incident?.id == alert.incidentID)

        try store.updateAlerts(ids: [alert.id], AlertUpdate(status: "resolved"), actor: "analyst")
        entries = try store.outbox(after: entries[1].id, limit: 100)
        #expect(entries.map(\.kind) == [.alertUpdated, .incidentUpdated])
        #expect(entries[0].changes == "status: new → resolved")
        #expect(entries[0].alert?.status == "resolved")
        #expect(entries[1].changes == "status: new → resolved")
        #expect(entries.map(\.id) == entries.map(\.id).sorted())
        #expect(try store.latestOutboxID() == entries[1].id)
    }

    @Test(arguments: TestBackend.available) func aRolledBackTransactionLeavesNoOutboxEntry(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let test = try TestStore(backend, in: workspace)
        let store = test.store
        try importJSON(test, workspace, [antivirus("2026-03-03T10:00:00Z", host: "web-01")])
        let before = try store.latestOutboxID()
        let alert = try #require(try store.alerts(AlertFilter()).first)
        // An update that fails half-way (the second id does not exist) rolls back whole, outbox included.
        #expect(throws: (any Error).self) { try store.updateAlerts(ids: [alert.id, 999_999], AlertUpdate(status: "resolved"), actor: "t") }
        #expect(try store.latestOutboxID() == before)
        #expect(try store.alert(id: alert.id)?.status == "new")
    }

    @Test(arguments: TestBackend.available) func anIncidentThatARaisedAlertJoinsIsRaisedInTheOutbox(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let test = try TestStore(backend, in: workspace)
        let store = test.store
        // A high antivirus alert, then a critical one (another signature: another alert) on the same machine.
        try importJSON(test, workspace, [
            antivirus("2026-03-03T10:00:00Z", host: "web-01"),
            #"{"@timestamp":"2026-03-03T10:01:00Z","hostname":"web-01","os_platform":"linux","logsource":{"category":"antivirus"},"Signature":"Ransom.Critical","vendor_severity":"critical"}"#,
        ])
        let entries = try store.outbox(after: 0, limit: 100)
        #expect(entries.map(\.kind) == [.alertCreated, .incidentCreated, .alertCreated, .incidentUpdated])
        #expect(entries.last?.changes == "severity raised to critical")
        #expect(try store.incidents(status: nil, minimumSeverity: nil, limit: 10).map(\.severity) == [.critical])
    }

    @Test(arguments: TestBackend.available) func purgeDeletesOnlyOutboxEntriesEverySubscriptionHasHandled(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let test = try TestStore(backend, in: workspace)
        let store = test.store
        let subscription = try store.createSubscription(SubscriptionSpec(name: "siem", transport: .syslog, target: "127.0.0.1:514"),
                                                        secret: "", actor: "test")
        #expect(subscription.cursor == 0)
        try importJSON(test, workspace, [antivirus("2026-03-03T10:00:00Z", host: "web-01")])
        let entries = try store.outbox(after: 0, limit: 10).map(\.id)
        #expect(entries.count == 2)
        #expect(try store.latestOutboxID() == entries.last)
        let later = Timestamp.now() + .seconds(3600)
        #expect(try test.purgeEvents(olderThan: later).outboxEntriesDeleted == 0, "the subscription has sent nothing yet")
        let now = Timestamp.now()
        #expect(try store.leaseSubscription(subscription.id, worker: "w", now: now, until: now + .seconds(30)))
        #expect(try !store.leaseSubscription(subscription.id, worker: "other", now: now, until: now + .seconds(30)), "leased to w")
        try store.advanceSubscription(subscription.id, through: entries[0], sent: 1, worker: "w", now: now, leaseUntil: now + .seconds(30))
        #expect(try test.purgeEvents(olderThan: later).outboxEntriesDeleted == 1)
        #expect(try store.outbox(after: 0, limit: 10).map(\.id) == [entries[1]])
        #expect(try store.subscription(named: "siem")?.delivered == 1)
    }

    /// Workers take turns on a subscription through its lease; a failure waits for its retry; a
    /// dead letter lets delivery go on and can be sent again; every change is audited. Alike on
    /// both stores, since several nodes on PostgreSQL run a worker each.
    @Test(arguments: TestBackend.available) func subscriptionsLeaseRetryDeadLetterAndRedeliverAlikeOnBothStores(on backend: TestBackend) throws {
        let workspace = TemporaryDirectory()
        let test = try TestStore(backend, in: workspace)
        let store = test.store
        let spec = SubscriptionSpec(name: "hook", transport: .webhook, target: "https://siem.example/hook", minimumSeverity: .high,
                                    platforms: ["linux"], kinds: [.alertCreated, .incidentCreated])
        let hook = try store.createSubscription(spec, secret: "secret", actor: "admin")
        #expect(hook.spec == spec && hook.enabled && hook.cursor == 0)
        #expect(throws: (any Error).self) { try store.createSubscription(spec, secret: "", actor: "admin") }
        #expect(throws: (any Error).self) {
            try store.createSubscription(SubscriptionSpec(name: "bad name!", transport: .webhook, target: "https://x.example"), secret: "", actor: "a")
        }
        try importJSON(test, workspace, [antivirus("2026-03-03T10:00:00Z", host: "web-01"), antivirus("2026-03-03T10:00:00Z", host: "web-02")])
        let entries = try store.outbox(after: 0, limit: 10)
        // Two alerts, and the incident that groups them.
        try #require(entries.map(\.kind) == [.alertCreated, .incidentCreated, .alertCreated])
        let (first, last) = (entries[0].id, entries[2].id)

        let now = Timestamp.now(), later = now + .seconds(31)
        #expect(try store.subscriptionsDue(now: now, worker: "a").map(\.name) == ["hook"])
        #expect(try store.leaseSubscription(hook.id, worker: "a", now: now, until: now + .seconds(30)))
        #expect(try store.subscriptionsDue(now: now, worker: "b").isEmpty, "leased to a")
        #expect(try !store.leaseSubscription(hook.id, worker: "b", now: now, until: now + .seconds(30)))
        // Once a's lease ran out, b takes the subscription, and a can no longer move it.
        #expect(try store.leaseSubscription(hook.id, worker: "b", now: later, until: later + .seconds(30)))
        try store.advanceSubscription(hook.id, through: last, sent: 3, worker: "a", now: later, leaseUntil: later + .seconds(30))
        #expect(try store.subscription(named: "hook")?.cursor == 0)

        try store.recordDeliveryFailure(hook.id, error: "HTTP 503", retryAt: later + .seconds(60), worker: "b", now: later)
        var row = try #require(try store.subscription(named: "hook"))
        #expect(row.attempts == 1 && row.lastError == "HTTP 503" && row.backlog == 3)
        #expect(try store.subscriptionsDue(now: later, worker: "b").isEmpty, "waiting for its retry")
        #expect(try store.subscriptionsDue(now: later + .seconds(61), worker: "b").count == 1)

        try store.deadLetter(hook.id, outboxID: first, attempts: 3, error: "HTTP 500", worker: "b", now: later)
        row = try #require(try store.subscription(named: "hook"))
        #expect(row.cursor == first && row.attempts == 0 && row.deadLetters == 1 && row.lastError == "HTTP 500")
        try store.advanceSubscription(hook.id, through: last, sent: 1, worker: "b", now: later, leaseUntil: later + .seconds(30))
        row = try #require(try store.subscription(named: "hook"))
        #expect(row.cursor == last && row.backlog == 0 && row.delivered == 1 && row.lastDeliveredAt == later)
        #expect(try store.deadLetters(of: "hook").map(\.outboxID) == [first])
        #expect(try store.subscriptionsDue(now: later, worker: "b").isEmpty, "caught up")

        #expect(try store.redeliverDeadLetters(of: "hook", actor: "admin") == 1)
        row = try #require(try store.subscription(named: "hook"))
        #expect(row.cursor == first - 1 && row.deadLetters == 0 && row.backlog == 3, "delivery goes back to the oldest dead letter")
        #expect(try store.redeliverDeadLetters(of: "hook", actor: "admin") == 0)

        try store.releaseSubscriptionLeases(worker: "b")
        #expect(try store.leaseSubscription(hook.id, worker: "c", now: later, until: later + .seconds(30)), "b gave its lease back")
        try store.setSubscription("hook", enabled: false, actor: "admin")
        #expect(try store.subscriptionsDue(now: later, worker: "c").isEmpty, "a disabled subscription is not due")
        #expect(try !store.leaseSubscription(hook.id, worker: "c", now: later, until: later + .seconds(30)))
        try store.recordSubscriptionTest("hook", outcome: "delivered to https://siem.example/hook", actor: "admin")
        try store.removeSubscription("hook", actor: "admin")
        #expect(try store.subscriptions().isEmpty)
        #expect(throws: (any Error).self) { try store.removeSubscription("hook", actor: "admin") }
        let actions = try store.audit(action: "notify", target: nil, since: nil, limit: 100).map(\.action)
        #expect(actions == ["notify.remove", "notify.test", "notify.disable", "notify.redeliver", "notify.add"])
    }

    @Test func filtersSelectByKindSeverityPlatformAndRule() throws {
        let filter = try OutboxFilter(parameters: ["min_severity": "high", "os": "linux,macos", "on": "alert.created,incident.created"],
                                      defaultKinds: [.alertCreated])
        #expect(filter.kinds == [.alertCreated, .incidentCreated])
        #expect(filter.platforms == ["linux", "macos"])
        let spelled: (String) -> String = { "--" + $0.replacingOccurrences(of: "_", with: "-") }
        #expect(throws: AlertFilter.ParameterError.self) { try OutboxFilter(parameters: ["on": "alert.deleted"], defaultKinds: [], spell: spelled) }
        #expect(throws: AlertFilter.ParameterError.self) { try OutboxFilter(parameters: ["os": "plan9"], defaultKinds: []) }
        do {
            _ = try OutboxFilter(parameters: ["min_severity": "huge"], defaultKinds: [], spell: spelled)
            Issue.record("an unknown severity was accepted")
        } catch {
            #expect(error.description.hasPrefix("--min-severity 'huge' is unknown"))
        }
        let workspace = TemporaryDirectory()
        let test = try TestStore(.sqlite, in: workspace)
        let store = test.store
        try importJSON(test, workspace, [antivirus("2026-03-03T10:00:00Z", host: "web-01")])
        let entries = try store.outbox(after: 0, limit: 10)
        // The incident is left out: it passes a platform or rule filter never, as it spans machines and rules.
        #expect(entries.filter(filter.wants).map(\.kind) == [.alertCreated])
        #expect(entries.filter(OutboxFilter(kinds: OutboxKind.allCases, minimumSeverity: .high).wants).map(\.kind) == [.alertCreated, .incidentCreated])
        #expect(entries.filter(OutboxFilter(kinds: [.alertCreated], minimumSeverity: .critical).wants).isEmpty)
        #expect(entries.filter(OutboxFilter(kinds: [.alertCreated], platforms: ["ios"]).wants).isEmpty)
        #expect(entries.filter(OutboxFilter(kinds: OutboxKind.allCases, rules: [entries[0].alert!.ruleID]).wants).map(\.kind) == [.alertCreated])
    }

    // MARK: Formats

    /// An outbox entry whose alert holds every character that breaks a format.
    func hostileEntry() -> OutboxEntry {
        let hostile = "evil|host=x\\y\n<script>alert(1)</script> *bold* [link](javascript:alert(1)) <!channel> ] \" é"
        let time = Timestamp(microseconds: 1_795_773_600_000_000)
        let alert = AlertRow(id: 7, ruleID: "rule|1", title: "Title \(hostile)", severity: .high, status: "new", classification: nil,
                             determination: nil, assignedTo: nil, eventCount: 3, firstEventTime: time, lastEventTime: time, createdAt: time,
                             incidentID: 2, integration: "json", machineID: 1, hostname: hostile, osPlatform: "linux", osVersion: nil,
                             author: "a", techniques: ["T1059"], matchedFields: "{}", description: "", previousAlertID: nil)
        return OutboxEntry(id: 42, kind: .alertCreated, alertID: 7, createdAt: time, alert: alert)
    }

    func subscription(_ transport: DeliveryTransport, _ format: DeliveryFormat) -> SubscriptionRow {
        SubscriptionRow(id: 1, spec: SubscriptionSpec(name: "s", transport: transport, target: transport == .webhook ? "https://x" : "h:1", format: format),
                        secret: "k", enabled: true, cursor: 0, attempts: 0, nextAttemptAt: Timestamp(microseconds: 0), lastError: nil,
                        lastErrorAt: nil, delivered: 0, lastDeliveredAt: nil, backlog: 0, deadLetters: 0, createdAt: Timestamp(microseconds: 0),
                        createdBy: "t")
    }

    @Test func theJSONBodyIsTheChangeWithTheAlertAsTheAPIShowsIt() throws {
        let body = subscription(.webhook, .json).spec.message(for: hostileEntry(), hostname: "vigil-1").body
        let document = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(document["event_id"] as? Int == 42)
        #expect(document["type"] as? String == "alert.created")
        let alert = try #require(document["alert"] as? [String: Any])
        #expect(alert["id"] as? Int == 7)
        #expect(alert["hostname"] as? String == hostileEntry().alert?.hostname)
        #expect(alert["mitre_techniques"] as? [String] == ["T1059"])
    }

    @Test func cefEscapesHeaderAndExtensionAndStaysOneLine() throws {
        let message = String(decoding: subscription(.syslog, .cef).spec.message(for: hostileEntry(), hostname: "vigil-1").body, as: UTF8.self)
        #expect(!message.contains("\n"))
        let cef = try #require(message.range(of: "CEF:0|").map { String(message[$0.lowerBound...]) })
        // The header is seven fields split at unescaped pipes; the extension follows.
        var fields: [String] = [""], previous: Character = " "
        for character in cef {
            if character == "|" && previous != "\\" && fields.count < 8 { fields.append("") } else { fields[fields.count - 1].append(character) }
            previous = character
        }
        #expect(fields.count == 8)
        #expect(fields[4] == #"rule\|1"#)
        #expect(fields[6] == "8", "high is CEF severity 8")
        #expect(fields[7].hasPrefix("cat=alert.created "))
        #expect(cef.hasPrefix(#"CEF:0|Vigil|Vigil|1|rule\|1|Title evil\|host=x\\y "#))
        #expect(cef.contains(#"dhost=evil|host\=x\\y\n<script>"#))
        #expect(cef.contains("externalId=7 "))
        #expect(cef.contains("cn1=42 "))
    }

    @Test func rfc5424HasTheHeaderAndEscapedStructuredData() throws {
        let message = String(decoding: subscription(.syslog, .rfc5424).spec.message(for: hostileEntry(), hostname: "vigil 1").body, as: UTF8.self)
        #expect(message.hasPrefix("<35>1 2026-11-27T10:00:00.000Z "), "facility 4 and severity 3 (high) make priority 35: \(message.prefix(40))")
        let header = message.split(separator: " ", maxSplits: 6)
        #expect(header[2] == "vigil1", "the host name is printable ASCII without spaces")
        #expect(header[3] == "vigil")
        #expect(header[5] == "alert.created")
        #expect(message.contains(#"host="evil|host=x\\y <script>alert(1)</script> *bold* [link\](javascript:alert(1)) <!channel> \] \" é""#))
        #expect(message.contains(#"event_id="42""#))
        #expect(!message.contains("\n"))
    }

    @Test func slackAndTeamsShowDataAsTextNeverAsLinksOrMarkup() throws {
        let slack = try #require(try JSONSerialization.jsonObject(with: Data(subscription(.webhook, .slack).spec.message(for: hostileEntry(), hostname: "v").body)) as? [String: Any])
        let text = try #require(slack["text"] as? String)
        #expect(text.contains("&lt;script&gt;") && text.contains("&lt;!channel&gt;"))
        #expect(!text.contains("<!channel>"))
        #expect((slack["blocks"] as? [Any])?.count == 2)
        let teams = try #require(try JSONSerialization.jsonObject(with: Data(subscription(.webhook, .teams).spec.message(for: hostileEntry(), hostname: "v").body)) as? [String: Any])
        #expect(teams["@type"] as? String == "MessageCard")
        let title = try #require(teams["title"] as? String)
        #expect(title.contains(#"\[link\]\(javascript:alert\(1\)\)"#))
        #expect(!title.contains("<script>"))
        let facts = try #require(((teams["sections"] as? [[String: Any]])?.first?["facts"]) as? [[String: String]])
        #expect(facts.contains { $0["name"] == "Alert" && $0["value"] == "7" })
    }

    // MARK: Signature and retries

    @Test func theSignatureIsHMACSHA256OverTimeDotBodyAndRefusesTamperingAndReplay() throws {
        let body = Array(#"{"event_id":1}"#.utf8)
        let now = Timestamp.now()
        let header = WebhookSignature.sign(body: body, secret: "s3cret", time: now)
        // Checked the way the README tells a receiver to: independently of WebhookSignature.verify.
        let parts = Dictionary(uniqueKeysWithValues: header.split(separator: ",").map { part -> (String, String) in
            let pair = part.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]))
        })
        let seconds = try #require(parts["t"])
        let expected = HMAC<SHA256>.authenticationCode(for: Array("\(seconds).".utf8) + body, using: SymmetricKey(data: Array("s3cret".utf8)))
        #expect(parts["v1"] == expected.map { String(format: "%02x", $0) }.joined())
        #expect(WebhookSignature.verify(header: header, body: body, secret: "s3cret", now: now))
        #expect(!WebhookSignature.verify(header: header, body: body + [32], secret: "s3cret", now: now))
        #expect(!WebhookSignature.verify(header: header, body: body, secret: "other", now: now))
        #expect(!WebhookSignature.verify(header: header, body: body, secret: "s3cret", now: now + .seconds(301)), "a replay after five minutes")
        #expect(!WebhookSignature.verify(header: "t=1,v1=zz", body: body, secret: "s3cret", now: now))
        #expect(WebhookSignature.newSecret().count == 64)
        #expect(WebhookSignature.newSecret() != WebhookSignature.newSecret())
    }

    @Test func retriesBackOffExponentiallyWithJitterUpToTheCap() {
        let policy = RetryPolicy(firstDelay: .seconds(1), maxDelay: .seconds(60), webhookAttempts: 4)
        var generator = SplitMix64(seed: 7)
        for attempt in 1...12 {
            let delay = policy.delay(afterAttempt: attempt, using: &generator)
            let full = min(Duration.seconds(1) * (1 << (attempt - 1)), .seconds(60))
            #expect(delay >= full / 2 && delay <= full, "try \(attempt): \(delay) outside \(full / 2)…\(full)")
        }
        let spread = Set((0..<20).map { _ in policy.delay(afterAttempt: 5, using: &generator) })
        #expect(spread.count > 10, "jitter spreads retries")
        #expect(!policy.isExhausted(webhookAttempts: 3))
        #expect(policy.isExhausted(webhookAttempts: 4))
    }
}
