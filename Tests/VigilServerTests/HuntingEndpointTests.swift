import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VigilModel
import VigilTestSupport
@testable import VigilStore

/// Advanced hunting over HTTP: `POST /api/v1/query`, `GET /api/v1/events` and a machine's timeline.
/// Errors have the API's one shape, `{"error": {"code", "message"}}`.
@Suite(.runsOn(.servers)) struct HuntingEndpointTests {
    /// Forty events, twenty per host, one second apart, and ClamAV's scan log (the EICAR
    /// detection among its findings) from av-host.
    static func seeded() async throws -> ServerFixture {
        let fixture = try ServerFixture()
        let lines = (0..<40).map { index in
            #"{"hostname":"\#(index % 2 == 0 ? "web-01" : "db-01")","@timestamp":"2026-11-27T10:00:\#(String(format: "%02d", index))Z","#
                + #""logsource":{"category":"process_creation"},"Image":"/bin/sh","CommandLine":"sh -c step-\#(index)"}"#
        }
        let log = try Data(contentsOf: corpusLogs.appendingPathComponent("clamav/clamscan_l.log"))
        try await fixture.app().test(.router) { client in
            try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken),
                                     body: ByteBuffer(string: lines.joined(separator: "\n"))) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/ingest?hostname=av-host", method: .post, headers: headers(fixture.clamavToken),
                                     body: ByteBuffer(bytes: log)) { #expect($0.status == .ok) }
        }
        return fixture
    }

    @Test func aQueryReturnsColumnsAndRowsAndAnythingButReadingIsRefused() async throws {
        let fixture = try await Self.seeded()
        let alertsBefore = try fixture.store().count(.alerts)
        try await fixture.app().test(.router) { client in
            func query(_ body: String, key: String? = fixture.apiKey) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: "/api/v1/query", method: .post, headers: headers(key), body: ByteBuffer(string: body)) {
                    ($0.status, json($0.body))
                }
            }
            func sql(_ text: String, _ extra: String = "") -> String {
                let quoted = String(decoding: try! JSONSerialization.data(withJSONObject: [text], options: .fragmentsAllowed), as: UTF8.self).dropFirst().dropLast()
                return "{\"sql\":\(quoted)\(extra)}"
            }
            let (status, answer) = try await query(sql("SELECT hostname, count(*) AS events FROM events GROUP BY hostname ORDER BY hostname"))
            #expect(status == .ok, "\(answer)")
            #expect(answer["columns"] as? [String] == ["hostname", "events"])
            let rows = answer["rows"] as? [[Any]] ?? []
            let scanned = try fixture.store().events(EventFilter(machine: "av-host", limit: 1_000)).count
            #expect(scanned > 0)
            #expect(rows.map { "\($0[0]):\($0[1])" } == ["av-host:\(scanned)", "db-01:20", "web-01:20"])
            #expect(answer["truncated"] as? Bool == false)

            let (capped, cappedAnswer) = try await query(sql("SELECT id FROM events", #","limit":5"#))
            #expect(capped == .ok)
            #expect((cappedAnswer["rows"] as? [[Any]])?.count == 5 && cappedAnswer["truncated"] as? Bool == true)

            let (fieldStatus, fieldAnswer) = try await query(sql("SELECT field(fields, 'CommandLine') AS command FROM events WHERE hostname = 'web-01' ORDER BY time LIMIT 1"))
            #expect(fieldStatus == .ok)
            #expect((fieldAnswer["rows"] as? [[Any]])?.first?.first as? String == "sh -c step-0")

            for refused in ["DELETE FROM alerts", "ATTACH DATABASE '/tmp/x.db' AS x", "PRAGMA writable_schema = ON",
                            "SELECT load_extension('/tmp/x.so')", "SELECT * FROM api_keys", "SELECT 1; DELETE FROM alerts"] {
                let (status, answer) = try await query(sql(refused))
                #expect(status == .badRequest, "\(refused): \(status)")
                let error = answer["error"] as? [String: Any]
                #expect(error?["code"] as? String == "bad_request" && !(error?["message"] as? String ?? "").isEmpty, "\(refused): \(answer)")
            }
            let bomb = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
            let (stopped, stoppedAnswer) = try await query(sql(bomb, #","timeout":"1s""#))
            #expect(stopped == .unprocessableContent, "\(stoppedAnswer)")
            #expect(((stoppedAnswer["error"] as? [String: Any])?["message"] as? String)?.contains("time limit") == true)

            #expect(try await query(sql("SELECT 1", #","timeout":"1h""#)).0 == .badRequest)
            #expect(try await query(sql("SELECT 1", #","limit":0"#)).0 == .badRequest)
            #expect(try await query(#"{"query":"SELECT 1"}"#).0 == .badRequest)
            #expect(try await query("not json").0 == .badRequest)
            #expect(try await query(sql("SELECT 1"), key: nil).0 == .unauthorized)
            #expect(try await query(sql("SELECT 1"), key: fixture.jsonToken).0 == .unauthorized)
        }
        #expect(try fixture.store().count(.alerts) == alertsBefore)
    }

    @Test func eventsPageNewestFirstWithFiltersAndACursorThatMissesNothing() async throws {
        let fixture = try await Self.seeded()
        try await fixture.app().test(.router) { client in
            func page(_ query: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: "/api/v1/events\(query)", method: .get, headers: headers(fixture.apiKey)) { ($0.status, json($0.body)) }
            }
            var seen: [String] = []
            var query = "?machine=web-01&limit=6"
            var pages = 0
            while true {
                let (status, answer) = try await page(query)
                #expect(status == .ok, "\(answer)")
                let events = answer["events"] as? [[String: Any]] ?? []
                #expect(events.allSatisfy { $0["hostname"] as? String == "web-01" })
                seen += events.compactMap { ($0["fields"] as? [String: Any])?["CommandLine"] as? String }
                pages += 1
                guard let next = answer["next"] as? String, pages < 10 else { break }
                query = "?machine=web-01&limit=6&cursor=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? next)"
            }
            #expect(pages == 4)
            #expect(seen == stride(from: 38, through: 0, by: -2).map { "sh -c step-\($0)" }, "newest first, each once")

            let (windowStatus, window) = try await page("?since=2026-11-27T10:00:30Z&until=2026-11-27T10:00:33Z")
            #expect(windowStatus == .ok)
            #expect((window["events"] as? [[String: Any]])?.count == 4)
            #expect(window["next"] is NSNull)

            for bad in ["?since=someday", "?limit=0", "?cursor=bm9wZQ==", "?colour=red"] {
                let (status, answer) = try await page(bad)
                #expect(status == .badRequest, "\(bad)")
                let message = (answer["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(!message.isEmpty, "\(bad)")
            }
            #expect(try await client.execute(uri: "/api/v1/events", method: .get) { $0.status } == .unauthorized)
        }
    }

    @Test func aMachinesTimelineShowsItsEventsWithTheAlertsTheyRaised() async throws {
        let fixture = try await Self.seeded()
        let machineID = try #require(try fixture.store().machines().first { $0.hostname == "av-host" }?.id)
        try await fixture.app().test(.router) { client in
            func timeline(_ path: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: path, method: .get, headers: headers(fixture.apiKey)) { ($0.status, json($0.body)) }
            }
            let (status, answer) = try await timeline("/api/v1/machines/\(machineID)/timeline")
            #expect(status == .ok, "\(answer)")
            #expect(answer["machine_id"] as? Int == Int(machineID))
            let entries = answer["entries"] as? [[String: Any]] ?? []
            let scanned = try fixture.store().events(EventFilter(machine: "av-host", limit: 1_000)).count
            #expect(entries.count == scanned)
            #expect(entries.allSatisfy { ($0["event"] as? [String: Any])?["hostname"] as? String == "av-host" })
            let titles = entries.flatMap { ($0["alerts"] as? [[String: Any]] ?? []).compactMap { $0["title"] as? String } }
            #expect(titles.contains("EICAR test file detected"), "\(titles)")
            #expect(entries.allSatisfy { !($0["alerts"] as? [Any] ?? []).isEmpty }, "every finding of the scan raised or joined an alert")

            let webID = try #require(try fixture.store().machines().first { $0.hostname == "web-01" }?.id)
            let (_, web) = try await timeline("/api/v1/machines/\(webID)/timeline?limit=3")
            #expect((web["entries"] as? [[String: Any]])?.compactMap { ($0["alerts"] as? [Any])?.count } == [0, 0, 0])
            #expect(web["next"] is String)

            #expect(try await timeline("/api/v1/machines/999999/timeline").0 == .notFound)
            #expect(try await timeline("/api/v1/machines/web-01/timeline").0 == .badRequest)
            #expect(try await timeline("/api/v1/machines/\(webID)/timeline?machine=db-01").0 == .badRequest)
        }
    }

    @Test func theServerRunsADueCustomDetectionAndRaisesAnAlertPerRow() async throws {
        let fixture = try await Self.seeded()
        try fixture.store().addCustomDetection(CustomDetection(
            name: "shell-steps", title: "Shell steps per host",
            query: "SELECT max(id) AS event_id, count(*) AS steps FROM events WHERE field(fields, 'Image') = '/bin/sh' GROUP BY hostname",
            every: .seconds(3600), severity: .medium, actor: "test"))
        try await fixture.app().test(.router) { _ in
            // The scheduler runs a due detection as the server starts.
            let deadline = ContinuousClock.now + .seconds(60)
            while try fixture.store().customDetections().first?.lastRunAt == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let detection = try #require(try fixture.store().customDetections().first)
        #expect(detection.lastOutcome == "2 rows: 2 alerts opened, 0 folded, 0 already raised, 0 skipped")
        let alerts = try fixture.store().alerts(AlertFilter(rule: "custom:shell-steps"))
        #expect(alerts.map(\.hostname).sorted() == ["db-01", "web-01"])
        #expect(alerts.allSatisfy { $0.eventCount == 1 && $0.matchedFields == #"{"steps":"20"}"# })
    }
}
