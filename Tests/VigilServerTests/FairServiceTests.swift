#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import VigilTestSupport
import VigilModel
import VigilServer
@testable import VigilStore

/// Reads and key checks never wait behind a commit: while the writer is held up (another
/// connection holds SQLite's write lock, as a long commit would), `/health`, an API key check,
/// `GET /alerts` and `GET /machines` answer, and the push completes once the lock is free.
@Suite(.runsOn(.servers)) struct FairServiceTests {
    @Test func readsAnswerWhileACommitIsHeldUp() async throws {
        let fixture = try ServerFixture()
        try await fixture.app().test(.live) { client in
            let port = try #require(client.port)
            // A session of its own: the shared one is busy with every other test's requests.
            let session = URLSession(configuration: .ephemeral)
            defer { session.finishTasksAndInvalidate() }
            /// One request on a connection of its own; its status.
            func get(_ path: String, key: String? = nil) async throws -> Int {
                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
                request.timeoutInterval = 30
                if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
                let (_, response) = try await session.data(for: request)
                return (response as? HTTPURLResponse)?.statusCode ?? -1
            }
            // The key's first use is recorded (a write); later checks within a minute only read.
            #expect(try await get("/api/v1/alerts", key: fixture.apiKey) == 200)

            let blocker = try fixture.store()
            try blocker.connection.execute("BEGIN IMMEDIATE")
            let pushDone = Atomic<Bool>(false)
            let push = Task {
                defer { pushDone.store(true, ordering: .sequentiallyConsistent) }
                return try await client.execute(uri: "/api/v1/ingest?format=json", method: .post, headers: headers(fixture.jsonToken),
                                                body: ByteBuffer(string: #"{"hostname":"h","n":1}"#)) { $0.status }
            }
            try await Task.sleep(for: .milliseconds(300))

            #expect(try await get("/health") == 200)
            #expect(try await get("/api/v1/alerts", key: fixture.apiKey) == 200)
            #expect(try await get("/api/v1/machines", key: fixture.apiKey) == 200)
            let finishedEarly = pushDone.load(ordering: .sequentiallyConsistent)
            #expect(!finishedEarly, "the push cannot have committed while the write lock was held")

            try blocker.connection.execute("ROLLBACK")
            #expect(try await push.value == .ok)
        }
        #expect(try fixture.store().count(.events) == 1)
    }
}
