import Foundation
import Testing
import VigilPostgres
import VigilTestSupport
import VigilTooling

/// The read-only commands of the built binary on a PostgreSQL store list what they list on a
/// SQLite store holding the same import; a command that writes the SQLite store only says so.
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
            let unstable: Set<String> = ["id", "import_id", "machine_id", "incident_id", "created_at", "started", "finished", "time"]
            return try result.stdout.split(separator: "\n").map { line in
                var row = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                for key in unstable where !(command == ["events"] && key == "time") { row[key] = nil }
                return String(decoding: try JSONSerialization.data(withJSONObject: row, options: .sortedKeys), as: UTF8.self)
            }.sorted()
        }
        for command in [["alerts"], ["alerts", "--summary"], ["incidents"], ["machines"], ["events"], ["imports"], ["rejected"],
                        ["audit", "--action", "integration"]] {
            let expected = try await rows(command, sqlite)
            #expect(!expected.isEmpty, "\(command) lists nothing on SQLite")
            #expect(try await rows(command, postgres) == expected, "\(command)")
        }

        let alerts = try await vigil(["alerts", "--format", "jsonl"] + postgres, in: scratch.url)
        let alertID = try #require(alerts.stdout.split(separator: "\n").first.flatMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["id"] as? Int)
        let shown = try await vigil(["alert", "show", String(alertID)] + postgres, in: scratch.url)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("events ("))

        let update = try await vigil(["alert", "update", String(alertID), "--set-status", "resolved"] + postgres, in: scratch.url)
        #expect(update.status != 0)
        #expect(update.stderr.contains("reads the SQLite store only so far"), "\(update.stderr)")
    }
}
