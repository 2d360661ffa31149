#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import VigilTooling

/// A slow or silent client cannot hold the server: header and body-idle timeouts close it, and
/// the connection cap keeps a flood of them from taking more than their share. Against the
/// real `vigil serve`.
@Suite(.serialized) struct SlowClientTests {
    static let line = "/tmp/eicar.com.txt: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND\n"

    @Test func aClientThatNeverFinishesItsHeadersIsDisconnected() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "clamav", arguments: ["--header-timeout", "1"])
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        connection.send("POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        #expect(connection.read(within: 0.4) == nil, "the server must wait for the rest of the headers a while")
        #expect(connection.read(within: 3) == "", "a client that never finishes its headers must be disconnected")
    }

    @Test func aBodyThatStallsIsDisconnectedAndStoresNothing() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "clamav", arguments: ["--body-idle-timeout", "1"])
        defer { server.stop() }
        let body = String(repeating: Self.line, count: 10)
        let connection = try RawConnection(port: server.port)
        connection.send("POST /api/v1/ingest?format=clamav HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(server.token)\r\n"
                        + "Content-Length: \(body.utf8.count)\r\n\r\n" + String(body.prefix(100)))
        #expect(connection.read(within: 3) == "", "a body that stalls past the idle timeout must be disconnected")
        let events = try await vigil(["events", "--format", "json"], in: scratch.url)
        #expect(events.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(events.stdout)")
    }

    @Test func connectionsBeyondTheCapWaitUntilOneCloses() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "clamav", arguments: ["--max-connections", "2", "--header-timeout", "30"])
        defer { server.stop() }
        var silent = [try RawConnection(port: server.port), try RawConnection(port: server.port)]
        try await Task.sleep(for: .milliseconds(300))
        let third = try RawConnection(port: server.port)
        third.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(third.read(within: 1) == nil, "a third connection must not be served while two are open")
        silent.removeAll()
        let answer = third.read(within: 5) ?? ""
        #expect(answer.hasPrefix("HTTP/1.1 200"), "once they closed, the waiting connection is served: \(answer)")
    }

    @Test func aPushOverTheEventCapIsRefusedWhole() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "clamav", arguments: ["--max-events-per-push", "10"])
        defer { server.stop() }
        let over = try await push(String(repeating: Self.line, count: 11), to: server)
        #expect(over.status == 413, "\(over.body)")
        #expect(over.body.contains("more than 10 records"))
        #expect(try await vigil(["events", "--format", "json"], in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let within = try await push(String(repeating: Self.line, count: 10), to: server)
        #expect(within.status == 200, "\(within.body)")
    }

    /// A push is read and written batch by batch in its transaction: the server never holds all
    /// of a large push's events at once. 100,000 distinct records (the default cap, a 7 MB
    /// body) once took the server's peak memory up by the size of all their events.
    @Test func aLargePushIsWrittenInBoundedBatches() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "clamav")
        defer { server.stop() }
        let body = (0..<100_000).map { "/tmp/sample-\($0).bin: Unix.Trojan.Mirai-\($0 % 97) FOUND\n" }.joined()
        let before = try #require(peakMemory(of: server))
        let answer = try await push(body, to: server)
        #expect(answer.status == 200, "\(answer.body.prefix(300))")
        #expect(answer.body.contains("\"accepted\":100000"))
        let after = try #require(peakMemory(of: server))
        let grownMiB = (after - before) / (1 << 20)
        // The body (7 MB), the batches in flight and SQLite's page cache (up to 64 MiB): 72 MiB
        // when this test was written, 107-122 MiB in six debug runs at a later stop (the same on
        // the build before that stop's changes), which failed the 120 MiB bound this test had.
        // Holding all 100,000 events with their detections took 201 MiB.
        #expect(grownMiB < 150, "peak memory grew by \(grownMiB) MiB for a 7 MB push")
    }

    /// The server's peak resident memory (`VmHWM`), in bytes.
    func peakMemory(of server: RunningServer) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kilobytes * 1024
    }

    @Test func theRateLimiterCountsRecordsNotOnlyPushes() async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "clamav", arguments: ["--event-rate", "5"])
        defer { server.stop() }
        // Five records a second, bursts of ten: eight pass, the next eight do not.
        func lines(_ range: Range<Int>) -> String { range.map { "/tmp/eicar-\($0).com: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND\n" }.joined() }
        let first = try await push(lines(0..<8), to: server)
        #expect(first.status == 200, "\(first.body)")
        let second = try await push(lines(8..<16), to: server)
        #expect(second.status == 429, "\(second.body)")
        #expect(second.retryAfter.map { $0 >= 1 } == true)
        let events = try await vigil(["events", "--format", "jsonl"], in: scratch.url).stdout
        #expect(events.split(separator: "\n").count == 8)
    }

    /// Pushes `body` as ClamAV with the server's token; the status, body and Retry-After.
    func push(_ body: String, to server: RunningServer) async throws -> (status: Int, body: String, retryAfter: Int?) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/api/v1/ingest?format=clamav&hostname=h")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(server.token)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(body.utf8)
        // These tests measure memory and refusals, not speed: a debug server given 100,000
        // records on a loaded 2-core machine took over URLSession's default 60 s in CI.
        request.timeoutInterval = 300
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? -1, String(decoding: data, as: UTF8.self),
                (http?.value(forHTTPHeaderField: "Retry-After")).flatMap { Int($0) })
    }
}
