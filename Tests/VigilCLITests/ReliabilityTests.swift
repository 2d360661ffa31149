#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import Synchronization
import Testing
import VigilTooling

/// Crashes and concurrent use, with the real binary: `kill -9` mid-import and mid-push,
/// queries during an import, and two importers on one database.
@Suite(.serialized) struct ReliabilityTests {
    /// `count` distinct JSON events; every 1,000th is an EICAR detection on a host of its own.
    static func writeEvents(_ count: Int, to scratch: TemporaryDirectory, name: String = "big.ndjson") throws {
        var text = ""
        text.reserveCapacity(count * 170)
        for index in 0..<count {
            let clock = String(format: "%02d:%02d:%02d", index / 3600 % 24, index / 60 % 60, index % 60)
            if index % 1_000 == 0 {
                text += #"{"@timestamp":"2026-11-27T\#(clock)Z","host":{"name":"eicar-\#(index)"},"logsource":{"category":"antivirus"},"Signature":"Win.Test.EICAR_HDB-1","Filename":"/tmp/e\#(index)"}"#
            } else {
                text += #"{"@timestamp":"2026-11-27T\#(clock)Z","host":{"name":"host-\#(index % 50)"},"logsource":{"category":"process_creation"},"CommandLine":"job \#(index)"}"#
            }
            text += "\n"
        }
        try scratch.write(name, text)
    }

    static func start(_ arguments: [String], in directory: URL) throws -> Process {
        let process = Process()
        process.executableURL = vigilBinary()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The rows of `vigil imports --format json`.
    static func imports(in scratch: TemporaryDirectory) async throws -> [[String: Any]] {
        let result = try await vigil(["imports", "--format", "json"], in: scratch.url)
        #expect(result.status == 0, "\(result.stderr)")
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    static func waitUntil(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func killDashNineMidImportKeepsWholeBatchesAndARerunFinishesIt() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let total = 100_000
        try Self.writeEvents(total, to: scratch)

        let importer = try Self.start(["import", "--integration", "json", "big.ndjson"], in: scratch.url)
        let committed = try await Self.waitUntil {
            (try await Self.imports(in: scratch).first?["events_stored"] as? Int ?? 0) > 0
        }
        #expect(committed)
        kill(importer.processIdentifier, SIGKILL)
        importer.waitUntilExit()
        #expect(importer.terminationReason == .uncaughtSignal)

        // The database opens cleanly, passes its check, and says the import was interrupted.
        let check = try await vigil(["check"], in: scratch.url)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let interrupted = try await #require(Self.imports(in: scratch).first)
        #expect(interrupted["status"] as? String == "interrupted")
        let stored = try #require(interrupted["events_stored"] as? Int)
        #expect(stored < total, "the import finished before it was killed; use a larger file")
        // Only whole batches of 8,192 records were committed.
        #expect(stored % 8_192 == 0)
        #expect(interrupted["records_read"] as? Int == stored)

        // The same import again completes: what was stored is skipped, the rest lands once.
        let rerun = try await vigil(["import", "--integration", "json", "--json", "big.ndjson"], in: scratch.url)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(rerun.stdout.utf8)) as? [String: Any])
        #expect(summary["duplicates"] as? Int == stored)
        #expect(summary["events_stored"] as? Int == total - stored)
        let after = try await vigil(["check"], in: scratch.url)
        #expect(after.stdout.contains("ok: 2 imports, \(total) events"), "\(after.stdout)")
        // Each EICAR host has the same alerts as every other: none lost, none doubled by the rerun.
        let alerts = try await vigil(["alerts", "--format", "json", "--limit", "1000"], in: scratch.url).stdout
        let hosts = (try JSONSerialization.jsonObject(with: Data(alerts.utf8)) as? [[String: Any]] ?? []).compactMap { $0["hostname"] as? String }
        let perHost = Dictionary(grouping: hosts, by: { $0 }).mapValues(\.count)
        #expect(perHost.count == total / 1_000)
        #expect(Set(perHost.values).count == 1)
    }

    @Test func twoImportersOnOneDatabaseFailFastWithAClearMessage() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        try Self.writeEvents(60_000, to: scratch)
        try Self.writeEvents(10, to: scratch, name: "small.ndjson")

        let first = try Self.start(["import", "--integration", "json", "big.ndjson"], in: scratch.url)
        #expect(try await Self.waitUntil { try await Self.imports(in: scratch).first?["status"] as? String == "running" })
        let second = try await vigil(["import", "--integration", "json", "small.ndjson"], in: scratch.url)
        await first.exited()
        #expect(second.status == 75)
        #expect(second.stderr.contains("another Vigil process is writing"))
        #expect(second.stderr.contains("vigil import, pid \(first.processIdentifier)"))
        #expect(first.terminationStatus == 0)
        let check = try await vigil(["check"], in: scratch.url)
        #expect(check.stdout.contains("ok: 1 imports, 60000 events"), "\(check.stdout)")
    }

    @Test func queriesFromTheCLIAndHTTPDuringAnImportNeverSeeALock() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let key = try await vigil(["apikey", "create", "reader"], in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.writeEvents(80_000, to: scratch)
        let port = Int.random(in: 20_000...32_000)
        let server = try Self.start(["serve", "--no-ingest", "--port", String(port)], in: scratch.url)
        defer { server.terminate() }
        let importer = try Self.start(["import", "--integration", "json", "big.ndjson"], in: scratch.url)

        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/alerts?limit=1000")!)
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        var rounds = 0
        var httpRounds = 0
        var lastStored = 0
        var lastAlerts = 0
        while importer.isRunning {
            for arguments in [["alerts", "--format", "json", "--limit", "1000"], ["machines"], ["incidents"]] {
                let result = try await vigil(arguments, in: scratch.url)
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
                #expect(!result.stderr.contains("locked"))
            }
            // Each query sees a committed state, and committed state only grows.
            let stored = try await Self.imports(in: scratch).first?["events_stored"] as? Int ?? 0
            #expect(stored >= lastStored)
            lastStored = stored
            if let (data, response) = try? await URLSession.shared.data(for: request) {
                #expect((response as? HTTPURLResponse)?.statusCode == 200)
                let alerts = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["alerts"] as? [Any] ?? []
                #expect(alerts.count >= lastAlerts)
                lastAlerts = alerts.count
                httpRounds += 1
            }
            rounds += 1
        }
        #expect(importer.terminationStatus == 0)
        #expect(rounds >= 2, "the import ended before queries overlapped it")
        #expect(httpRounds >= 1, "the server never answered during the import")
        #expect(try await vigil(["check"], in: scratch.url).status == 0)
    }

    @Test func killDashNineOnTheServerLosesNoAcknowledgedPush() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let token = try await vigil(["integration", "token", "json"], in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let port = Int.random(in: 20_000...32_000)
        let server = try Self.start(["serve", "--port", String(port), "--push-rate", "0"], in: scratch.url)
        #expect(try await Self.waitForHealth(port: port))

        // Four pushers send numbered batches until the server dies under them; it is killed
        // once 20 pushes were acknowledged (or after 60 s), however slow the machine.
        let acknowledgedSoFar = SharedCount()
        let acknowledged = try await withThrowingTaskGroup(of: [String].self) { group in
            for pusher in 0..<4 {
                group.addTask {
                    var ok: [String] = []
                    for batch in 0..<2_000 {
                        let marker = "p\(pusher)-b\(batch)"
                        let body = (0..<20).map { #"{"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"h\#(pusher)"},"CommandLine":"\#(marker)-e\#($0)"}"# }.joined(separator: "\n")
                        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/ingest?format=json")!)
                        request.httpMethod = "POST"
                        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                        request.httpBody = Data(body.utf8)
                        guard let (_, response) = try? await URLSession.shared.data(for: request) else { break }
                        if (response as? HTTPURLResponse)?.statusCode == 200 {
                            ok.append(marker)
                            acknowledgedSoFar.add()
                        }
                    }
                    return ok
                }
            }
            group.addTask {
                let deadline = ContinuousClock.now + .seconds(60)
                while acknowledgedSoFar.value < 20, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                kill(server.processIdentifier, SIGKILL)
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        server.waitUntilExit()
        #expect(acknowledged.count >= 20, "too few pushes were acknowledged before the kill")

        let check = try await vigil(["check"], in: scratch.url)
        #expect(check.status == 0, "\(check.stdout)")
        let events = try await vigil(["events", "--limit", "1000000", "--format", "jsonl"], in: scratch.url).stdout
        let stored = Set(events.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: #"p\d+-b\d+"#, options: .regularExpression) else { return nil }
            return String(line[range])
        })
        let missing = acknowledged.filter { !stored.contains($0) }
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.prefix(5))")
        // Every acknowledged batch is whole: its 20 events are all there.
        let eventCount = events.split(separator: "\n").count
        #expect(eventCount >= acknowledged.count * 20)
    }

    @Test func aBackupDuringAnImportRestoresToAConsistentDatabase() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        try Self.writeEvents(80_000, to: scratch)
        let importer = try Self.start(["import", "--integration", "json", "big.ndjson"], in: scratch.url)
        #expect(try await Self.waitUntil { (try await Self.imports(in: scratch).first?["events_stored"] as? Int ?? 0) > 0 })
        let backup = try await vigil(["backup", "copy.sqlite"], in: scratch.url)
        await importer.exited()
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(importer.terminationStatus == 0)

        // Restore: the copy is a database of its own that passes its check and answers queries.
        let check = try await vigil(["check", "--db", "copy.sqlite"], in: scratch.url)
        #expect(check.status == 0, "\(check.stdout)")
        let copied = try #require(try await vigil(["imports", "--db", "copy.sqlite", "--format", "json"], in: scratch.url).stdout
            .data(using: .utf8).flatMap { try JSONSerialization.jsonObject(with: $0) as? [[String: Any]] }?.first)
        let stored = try #require(copied["events_stored"] as? Int)
        #expect(stored % 8_192 == 0 || stored == 80_000)
        #expect(check.stdout.contains("ok: 1 imports, \(stored) events"))
        #expect(try await vigil(["alerts", "--db", "copy.sqlite"], in: scratch.url).status == 0)
        #expect(try await vigil(["backup", "copy.sqlite"], in: scratch.url).stderr.contains("already exists"))
    }

    @Test func purgeRunsWhileQueriesKeepAnswering() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        try Self.writeEvents(50_000, to: scratch)
        #expect(try await vigil(["import", "--integration", "json", "big.ndjson"], in: scratch.url).status == 0)
        let purge = try Self.start(["purge", "--events-older-than", "2026-11-27T06:00:00Z"], in: scratch.url)
        var queries = 0
        while purge.isRunning || queries == 0 {
            let result = try await vigil(["alerts", "--format", "json", "--limit", "1000"], in: scratch.url)
            #expect(result.status == 0, "\(result.stderr)")
            queries += 1
        }
        #expect(purge.terminationStatus == 0)
        // Events before 06:00 (index < 21,600) go, except the 22 EICAR events that alerts cite.
        let check = try await vigil(["check"], in: scratch.url)
        #expect(check.stdout.contains("ok: 1 imports, \(50_000 - 21_600 + 22) events"), "\(check.stdout)")
        #expect(try await vigil(["audit", "--action", "events.purge"], in: scratch.url).stdout.contains("21578 deleted"))
    }

    @Test func theServerLogsNoSecretsAndWarnsWhenExposedWithoutTLS() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let token = try await vigil(["integration", "token", "json"], in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try await vigil(["apikey", "create", "reader"], in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let logPath = scratch.url.appendingPathComponent("server.log")
        FileManager.default.createFile(atPath: logPath.path, contents: nil)
        let log = try FileHandle(forWritingTo: logPath)
        let port = Int.random(in: 20_000...32_000)
        let server = Process()
        server.executableURL = vigilBinary()
        server.arguments = ["serve", "--host", "0.0.0.0", "--port", String(port)]
        server.currentDirectoryURL = scratch.url
        server.standardOutput = log
        server.standardError = log
        try server.run()
        #expect(try await Self.waitForHealth(port: port))
        var push = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/ingest?format=json")!)
        push.httpMethod = "POST"
        push.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        push.httpBody = Data(#"{"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"web-01"},"CommandLine":"ls"}"#.utf8)
        _ = try await URLSession.shared.data(for: push)
        var query = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/alerts?search=\(token)")!)
        query.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        _ = try await URLSession.shared.data(for: query)
        server.terminate()
        server.waitUntilExit()
        try log.close()
        let text = try String(contentsOf: logPath, encoding: .utf8)
        #expect(text.contains("/api/v1/ingest"))
        #expect(text.contains("without TLS"))
        #expect(!text.contains(token))
        #expect(!text.contains(key))
        #expect(!text.contains(String(token.dropFirst(4).prefix(12))))
    }

    @Test func nothingInTheDataChoosesAFilePath() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let hostile = ["../../escape", "/tmp/vigil-owned-\(UUID().uuidString)", "x.sqlite", "..\\..\\win"].map { path in
            #"{"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"\#(path)"},"Filename":"\#(path)","TargetFilename":"\#(path)","logsource":{"category":"file_event"}}"#
        }
        try scratch.write("paths.ndjson", hostile.joined(separator: "\n"))
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path))
        #expect(try await vigil(["import", "--integration", "json", "paths.ndjson"], in: scratch.url).status == 0)
        #expect(try await vigil(["alerts"], in: scratch.url).status == 0)
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path))
        // Only the database's own files (WAL, shared memory, writer lock) may appear.
        #expect(after.subtracting(before).allSatisfy { $0.hasPrefix("vigil.sqlite") })
        #expect(!FileManager.default.fileExists(atPath: scratch.url.deletingLastPathComponent().appendingPathComponent("escape").path))
    }

    /// Whether a server on `port` answers `/health` within `timeout` (a debug build starting
    /// among the other tests takes seconds: it compiles the default rule pack). Each try gives
    /// up after 5 s, so that one stuck attempt cannot use the whole wait.
    static func waitForHealth(port: Int, timeout: Duration = .seconds(120)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/health")!)
        request.timeoutInterval = 5
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            if let (data, _) = try? await URLSession.shared.data(for: request),
               String(decoding: data, as: UTF8.self).contains("ok") { return true }
        }
        return false
    }
}

extension ReliabilityTests {
    @Test func aHundredMegabyteLineIsRejectedAndMemoryStaysFlat() async throws {
        let scratch = TemporaryDirectory()
        try await vigil(["init"], in: scratch.url)
        try await vigil(["integration", "on", "json"], in: scratch.url)
        let good = #"{"@timestamp":"2026-11-27T10:00:00Z","host":{"name":"web-01"},"CommandLine":"before"}"#
        let path = scratch.url.appendingPathComponent("huge.ndjson").path
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.write(Data((good + "\n" + #"{"CommandLine":""#).utf8))
        let block = Data(repeating: UInt8(ascii: "a"), count: 1 << 20)
        for _ in 0..<100 { handle.write(block) }
        handle.write(Data(("\"}\n" + good.replacingOccurrences(of: "before", with: "after") + "\n").utf8))
        try handle.close()

        let result = try await vigil(["import", "--integration", "json", "--json", "huge.ndjson"], in: scratch.url)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(summary["events_stored"] as? Int == 2)
        #expect(summary["rejected"] as? Int == 1)
        // The 100 MiB line is never held whole: the process peaks far below its size.
        let peak = try #require(summary["peak_rss_bytes"] as? Int)
        #expect(peak < 90 << 20, "peak RSS \(peak >> 20) MiB")
        let rejected = try await vigil(["rejected"], in: scratch.url).stdout
        #expect(rejected.contains("record longer than 16777216 bytes"))
    }
}

/// A count several tasks add to.
final class SharedCount: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}
