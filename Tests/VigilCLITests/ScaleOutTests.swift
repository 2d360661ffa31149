#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import PostgresNIO
import Synchronization
import Testing
import VigilIngest
import VigilPostgres
import VigilTestSupport
import VigilTooling

/// Three `vigil serve` nodes of the built binary on one PostgreSQL, eight pushers spread over
/// them, and the node holding the correlator role killed with SIGKILL mid-run. Afterwards every
/// acknowledged event is stored once, the alerts equal a single-node SQLite import of the same
/// events, and the brute-force correlation alert is there once.
@Suite(.enabled(if: PostgresTestDatabase.available, "VIGIL_TEST_POSTGRES names no PostgreSQL server"))
struct ScaleOutTests {
    /// A node: the process, its port, and the file its log goes to.
    struct Node: @unchecked Sendable {  // Process is only read (its pid) and signalled across tasks
        let process: Process
        let port: Int
        let log: URL

        var holdsCorrelatorRole: Bool {
            (try? String(contentsOf: log, encoding: .utf8))?.contains("this node holds the correlator role") ?? false
        }
    }

    static func startNode(store: String, in scratch: TemporaryDirectory, index: Int, arguments: [String] = []) async throws -> Node {
        let port = Int.random(in: 20_000...32_000)  // below the ephemeral ports clients use
        let log = scratch.url.appendingPathComponent("node-\(index).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot create \(log.path)"])
        }
        let process = Process()
        process.executableURL = vigilBinary()
        process.arguments = ["serve", "--store", store, "--port", String(port), "--push-rate", "0"] + arguments
        process.currentDirectoryURL = scratch.url
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        guard try await ReliabilityTests.waitForHealth(port: port) else {
            process.terminate()
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "node \(index) did not answer /health on port \(port)"])
        }
        return Node(process: process, port: port, log: log)
    }

    /// 30 failed SSH logins from one address within five minutes: the brute-force correlation fires once.
    static func bruteForceLines() -> [String] {
        (0..<30).map { attempt in
            #"{"@timestamp":"2026-12-01T10:0\#(attempt / 10):\#(String(format: "%02d", attempt % 10 * 5))Z","host":{"name":"bastion-01","os":{"platform":"linux"}},"logsource":{"product":"linux","service":"sshd"},"message":"Failed password for root from 203.0.113.9 port \#(40_000 + attempt) ssh2","SourceIp":"203.0.113.9"}"#
        }
    }

    /// (rule, machine, event count) of every alert, from `vigil alerts --format json`.
    static func alerts(_ arguments: [String], in scratch: TemporaryDirectory) async throws -> [String] {
        var lines: [String] = []
        var offset = 0
        while true {
            let result = try await vigil(["alerts", "--format", "json", "--limit", "1000", "--offset", String(offset)] + arguments, in: scratch.url)
            #expect(result.status == 0, "\(result.stderr)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
            lines += rows.map { "\($0["rule_id"] ?? "") \(($0["hostname"] as? String ?? "").lowercased()) \($0["event_count"] ?? "")" }
            guard rows.count == 1000 else { return lines.sorted() }
            offset += 1000
        }
    }

    @Test func threeNodesWithTheCorrelatorKilledGiveWhatOneSQLiteImportGives() async throws {
        let database = try PostgresTestDatabase()
        let store = database.url.description
        let scratch = TemporaryDirectory()
        let environment = ["VIGIL_STORE": store]
        try await vigil(["init"], environment: environment, in: scratch.url)
        try await vigil(["integration", "on", "json"], environment: environment, in: scratch.url)
        let token = try await vigil(["integration", "token", "json"], environment: environment, in: scratch.url).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)

        // Generated events with detections, and the brute force spread through them.
        let workload = try #require(try BenchWorkload.write(events: 4_000, to: scratch.url, formats: [.json]).first)
        var lines = try String(contentsOfFile: workload.path, encoding: .utf8).split(separator: "\n").map(String.init)
        for (offset, line) in Self.bruteForceLines().enumerated() { lines.insert(line, at: min(lines.count, offset * 97)) }
        let batches = stride(from: 0, to: lines.count, by: 40).map { Array(lines[$0..<min(lines.count, $0 + 40)]) }

        var nodes: [Node] = []
        for index in 0..<3 { nodes.append(try await Self.startNode(store: store, in: scratch, index: index)) }
        defer { for node in nodes where node.process.isRunning { node.process.terminate() } }
        let ports = nodes.map(\.port)
        let killed = Shared<Int?>(nil)
        let acknowledged = Shared(0)
        let ackedAtKill = Shared(0)

        /// Pushes one batch, to the next node that answers 200; a refused connection or a 5xx tries another.
        @Sendable func push(_ batch: [String], startingAt first: Int) async -> Bool {
            for attempt in 0..<30 {
                let port = ports[(first + attempt) % ports.count]
                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/ingest?format=json")!)
                request.httpMethod = "POST"
                request.timeoutInterval = 60
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                request.httpBody = Data((batch.joined(separator: "\n") + "\n").utf8)
                if let (_, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 {
                    acknowledged.value.withLock { $0 += 1 }
                    return true
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return false
        }

        let pushed = try await withThrowingTaskGroup(of: Int.self) { group in
            for pusher in 0..<8 {
                let mine = batches.enumerated().filter { $0.offset % 8 == pusher }.map(\.element)
                group.addTask {
                    var done = 0
                    for batch in mine where await push(batch, startingAt: pusher) { done += 1 }
                    return done
                }
            }
            // Mid-run, SIGKILL the node that holds the correlator role.
            group.addTask { [nodes] in
                _ = await ReliabilityTests.waitUntil { acknowledged.value.withLock { $0 } >= batches.count / 3 }
                _ = await ReliabilityTests.waitUntil { nodes.contains(where: \.holdsCorrelatorRole) }
                guard let holder = nodes.firstIndex(where: \.holdsCorrelatorRole) else { return 0 }
                kill(nodes[holder].process.processIdentifier, SIGKILL)
                killed.value.withLock { $0 = holder }
                ackedAtKill.value.withLock { $0 = acknowledged.value.withLock { $0 } }
                return 0
            }
            return try await group.reduce(0, +)
        }
        #expect(pushed == batches.count, "every batch is acknowledged by some node")
        let victim = try #require(killed.value.withLock { $0 }, "no node took the correlator role")
        await nodes[victim].process.exited()
        #expect(nodes[victim].process.terminationReason == .uncaughtSignal)
        #expect(ackedAtKill.value.withLock { $0 } < batches.count, "the kill came after the last push; push more")

        // Another node takes the role over and drains the queue.
        let session = try PostgresSession(url: database.url)
        let drained = try await ReliabilityTests.waitUntil(timeout: .seconds(120)) {
            let successor = nodes.indices.contains { $0 != victim && nodes[$0].holdsCorrelatorRole }
            let queued = try session.query("SELECT COUNT(*)::int8 AS n FROM detection_queue").first?["n"].decode(Int64.self) ?? -1
            return successor && queued == 0
        }
        #expect(drained, "no surviving node took the correlator role and drained the queue")

        // Every acknowledged event is stored, once.
        let stored = try session.query("SELECT raw FROM events").map { try $0["raw"].decode(String.self) }
        #expect(stored.count == Set(stored).count)
        #expect(Set(stored) == Set(lines))

        // The same events imported by one SQLite node give the same alerts.
        let file = try scratch.write("all.ndjson", lines.joined(separator: "\n") + "\n")
        let single = ["--db", scratch.path("single.sqlite")]
        try await vigil(["init"] + single, in: scratch.url)
        try await vigil(["integration", "on", "json"] + single, in: scratch.url)
        let imported = try await vigil(["import", file, "--integration", "json"] + single, in: scratch.url)
        #expect(imported.status == 0, "\(imported.stderr)")
        let expected = try await Self.alerts(single, in: scratch)
        #expect(expected.count >= 10)
        #expect(try await Self.alerts(["--store", store], in: scratch) == expected)
        let bruteForce = expected.filter { $0.hasPrefix("6d7e8f9a-0b1c-4d3e-8f4a-b5c6d7e8f9a0 ") }
        #expect(bruteForce == ["6d7e8f9a-0b1c-4d3e-8f4a-b5c6d7e8f9a0 bastion-01 30"])
    }
}

/// A value several tasks share, behind a lock.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
