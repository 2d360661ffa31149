#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import VigilTooling

/// A token is valid only while it is valid: a push whose body is still streaming when its token
/// is revoked, or its integration turned off (and on again), stores nothing.
@Suite(.serialized) struct SlowPushTests {
    /// A raw HTTP/1.1 client that sends the headers and the first part of a body, then waits.
    final class SlowPush {
        let socket: Int32

        init(port: Int, token: String, firstPart: String, totalLength: Int) throws {
            socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw CocoaError(.fileReadUnknown) }
            send("POST /api/v1/ingest?format=clamav&hostname=slow-01 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(totalLength)\r\n\r\n" + firstPart)
        }

        deinit { close(socket) }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, 0) }
        }

        /// The status code of the response, after sending the rest of the body.
        func finish(_ rest: String) -> Int {
            send(rest)
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(socket, &buffer, buffer.count, 0)
            let head = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
            return Int(head.split(separator: " ").dropFirst().first ?? "") ?? -1
        }
    }

    static let line = "/tmp/eicar.com.txt: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND\n"

    @Test(arguments: [["integration", "revoke", "clamav", "1"], ["integration", "off", "clamav"]])
    func aPushWhoseTokenIsInvalidatedMidBodyStoresNothing(invalidate: [String]) async throws {
        let scratch = TemporaryDirectory()
        let server = try await RunningServer.start(in: scratch, integration: "clamav")
        defer { server.stop() }

        let body = String(repeating: Self.line, count: 20)
        let half = body.utf8.count / 2
        let push = try SlowPush(port: server.port, token: server.token, firstPart: String(body.prefix(half)), totalLength: body.utf8.count)
        try await Task.sleep(for: .milliseconds(300))
        let invalidated = try vigil(invalidate, in: scratch.url)
        #expect(invalidated.status == 0, "\(invalidated.stderr)")
        if invalidate.contains("off") { try vigil(["integration", "on", "clamav"], in: scratch.url) }
        let status = push.finish(String(body.dropFirst(half)))
        #expect(status == 403)

        let events = try vigil(["events", "--format", "json"], in: scratch.url)
        #expect(events.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(events.stdout)")
        let audit = try vigil(["audit", "--format", "json"], in: scratch.url)
        #expect(audit.stdout.contains("while this push was being received"))
    }
}
