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
        let connection: RawConnection

        init(port: Int, token: String, firstPart: String, totalLength: Int) throws {
            connection = try RawConnection(port: port)
            connection.send("POST /api/v1/ingest?format=clamav&hostname=slow-01 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(totalLength)\r\n\r\n" + firstPart)
        }

        /// The status code of the response, after sending the rest of the body.
        func finish(_ rest: String) -> Int {
            connection.send(rest)
            let head = connection.read(within: 30) ?? ""
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
        let invalidated = try await vigil(invalidate, in: scratch.url)
        #expect(invalidated.status == 0, "\(invalidated.stderr)")
        if invalidate.contains("off") { try await vigil(["integration", "on", "clamav"], in: scratch.url) }
        let status = push.finish(String(body.dropFirst(half)))
        #expect(status == 403)

        let events = try await vigil(["events", "--format", "json"], in: scratch.url)
        #expect(events.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(events.stdout)")
        let audit = try await vigil(["audit", "--format", "json"], in: scratch.url)
        #expect(audit.stdout.contains("while this push was being received"))
    }
}
