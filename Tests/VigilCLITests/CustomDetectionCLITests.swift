import Foundation
import Testing
import VigilTooling

/// `vigil detections`: a saved query is checked when it is added, listed with its schedule, run
/// on demand (serve runs it on its schedule: `HuntingEndpointTests`), and raises each row once.
@Suite struct CustomDetectionCLITests {
    @Test func detectionsAreCheckedListedRunAndRaiseEachRowOnce() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        try scratch.write("events.ndjson", StoredRulesTests.events)
        #expect(try await vigil(["import", "--integration", "json", "--rules", "builtin", "events.ndjson"], in: scratch.url).status == 0)

        let noEventID = try await vigil(["detections", "add", "stagers", "--title", "Stagers", "--query", "SELECT id FROM events"], in: scratch.url)
        #expect(noEventID.status == 1)
        #expect(noEventID.stderr.contains("must return an event_id column"), "\(noEventID.stderr)")
        let writes = try await vigil(["detections", "add", "stagers", "--title", "Stagers", "--query", "DELETE FROM events"], in: scratch.url)
        #expect(writes.status == 1 && writes.stderr.contains("not saved"), "\(writes.stderr)")

        let query = "SELECT id AS event_id, field(fields, 'Image') AS key FROM events WHERE field(fields, 'CommandLine') LIKE '%--%'"
        let added = try await vigil(["detections", "add", "stagers", "--title", "Stagers", "--severity", "high", "--every", "30m",
                                     "--tag", "attack.t1105", "--query", query], in: scratch.url)
        #expect(added.status == 0, "\(added.stderr)")
        let listed = try await vigil(["detections", "list", "--format", "json"], in: scratch.url)
        let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.first?["every"] as? String == "1800s" && rows.first?["severity"] as? String == "high", "\(listed.stdout)")

        let first = try await vigil(["detections", "run"], in: scratch.url)
        #expect(first.stdout.contains("stagers: 2 rows: 2 alerts opened"), "\(first.stdout) \(first.stderr)")
        #expect(try await vigil(["detections", "run"], in: scratch.url).stdout.contains("no custom detection is due"))
        let again = try await vigil(["detections", "run", "stagers"], in: scratch.url)
        #expect(again.stdout.contains("2 already raised"), "\(again.stdout)")
        let alerts = try await vigil(["alerts", "--rule", "custom:stagers", "--format", "json"], in: scratch.url)
        let raised = try JSONSerialization.jsonObject(with: Data(alerts.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(raised.count == 2)
        #expect(raised.allSatisfy { $0["severity"] as? String == "high" && $0["title"] as? String == "Stagers" }, "\(alerts.stdout)")

        #expect(try await vigil(["detections", "disable", "stagers"], in: scratch.url).status == 0)
        #expect(try await vigil(["detections", "remove", "nothing"], in: scratch.url).status == 1)
        #expect(try await vigil(["audit", "--format", "json"], in: scratch.url).stdout.contains("detection.disable"))
    }
}
