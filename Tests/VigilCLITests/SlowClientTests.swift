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
    /// A raw TCP connection to the server.
    final class RawConnection {
        let socket: Int32

        init(port: Int) throws {
            socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw CocoaError(.fileReadUnknown) }
        }

        deinit { close(socket) }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        /// What the server sent within `seconds`: nil when it sent nothing and kept the
        /// connection open, "" when it closed the connection without a word.
        func read(within seconds: Double) -> String? {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(seconds * 1000)) > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(socket, &buffer, buffer.count, 0)
            return String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
        }
    }

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
        let events = try vigil(["events", "--format", "json"], in: scratch.url)
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
        #expect(try vigil(["events", "--format", "json"], in: scratch.url).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        let within = try await push(String(repeating: Self.line, count: 10), to: server)
        #expect(within.status == 200, "\(within.body)")
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
        let events = try vigil(["events", "--format", "jsonl"], in: scratch.url).stdout
        #expect(events.split(separator: "\n").count == 8)
    }

    /// Pushes `body` as ClamAV with the server's token; the status, body and Retry-After.
    func push(_ body: String, to server: RunningServer) async throws -> (status: Int, body: String, retryAfter: Int?) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/api/v1/ingest?format=clamav&hostname=h")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(server.token)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? -1, String(decoding: data, as: UTF8.self),
                (http?.value(forHTTPHeaderField: "Retry-After")).flatMap { Int($0) })
    }
}
