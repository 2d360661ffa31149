#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import Testing
import VigilTooling

/// Time is never invented silently: an unreadable time rejects its record with the reason,
/// `--accept-ingest-time` stores it at ingest time instead, and every event stored at ingest
/// time (those records, and records with no time at all) is flagged and counted.
@Suite struct IngestTimeTests {
    static let records = """
        {"@timestamp":"yesterday-ish","host":{"name":"h1"},"msg":"unreadable time"}
        {"host":{"name":"h1"},"msg":"no time at all"}
        {"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"h1"},"msg":"a time"}

        """

    func importJSON(_ extra: [String], in scratch: TemporaryDirectory) async throws -> [String: Any] {
        let result = try await vigil(["import", "--integration", "json", "--json"] + extra + ["records.ndjson"], in: scratch.url)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    @Test func anUnreadableTimeRejectsTheRecordUnlessIngestTimeIsAccepted() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["integration", "on", "json"], in: scratch.url)
        try scratch.write("records.ndjson", Self.records)
        let strict = try await importJSON([], in: scratch)
        #expect(strict["rejected"] as? Int == 1)
        #expect(strict["events_stored"] as? Int == 2)
        #expect(strict["ingest_timed"] as? Int == 1, "the record with no time is stored at ingest time, and counted")
        let rejected = try await vigil(["rejected", "--format", "json"], in: scratch.url).stdout
        #expect(rejected.contains("unreadable time 'yesterday-ish'") && rejected.contains("--accept-ingest-time"), "\(rejected)")

        let lenient = try await importJSON(["--accept-ingest-time"], in: scratch)
        #expect(lenient["rejected"] as? Int == 0)
        #expect(lenient["ingest_timed"] as? Int == 2)
        let events = try await vigil(["events", "--format", "jsonl"], in: scratch.url).stdout
        let flagged = events.split(separator: "\n").filter { $0.contains("\"vigil_ingest_time\":\"true\"") }
        #expect(flagged.contains { $0.contains("unreadable time") }, "\(events)")
        #expect(!events.split(separator: "\n").contains { $0.contains("a time\"") && $0.contains("vigil_ingest_time") })
    }

    @Test func aPushRejectsAnUnreadableTimeUnlessAsked() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "json")
        defer { server.stop() }
        func push(_ query: String) async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/api/v1/ingest?format=json\(query)")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(server.token)", forHTTPHeaderField: "Authorization")
            request.httpBody = Data(Self.records.utf8)
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? -1, String(decoding: data, as: UTF8.self))
        }
        let (status, body) = try await push("")
        #expect(status == 200 && body.contains("\"rejected\":1") && body.contains("\"ingest_timed\":1"), "\(body)")
        let (accepted, acceptedBody) = try await push("&accept_ingest_time=true")
        #expect(accepted == 200 && acceptedBody.contains("\"rejected\":0"), "\(acceptedBody)")
        #expect(try await push("&accept_ingest_time=maybe").0 == 400)
    }
}
