#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Benchmark
import Foundation
import Logging
import Synchronization
import VigilIngest
import VigilModel
import VigilServer
import VigilStore
import VigilTooling

/// Latency of reads while pushes commit: `vigil serve` in process on a store of 100,000 alerts,
/// two pushers sending 2,000-record bodies back to back, and each iteration one request.
/// The target is p99 under 100 ms for both: compare the p99 column.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock], maxDuration: .seconds(10), maxIterations: 2_000)
    let directory = TemporaryDirectory(prefix: "vigil-bench-latency")
    guard let server = try? LatencyServer(directory: directory) else { return }
    Benchmark("GET /health while pushes commit") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(await server.get("/health")) }
    }
    Benchmark("GET /api/v1/alerts while pushes commit") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(await server.get("/api/v1/alerts?limit=50")) }
    }
}

/// A server with a token, an API key and pushers that keep its writer busy.
final class LatencyServer: Sendable {
    let port = Int.random(in: 20_000...40_000)
    let apiKey: String
    let directory: TemporaryDirectory

    init(directory: TemporaryDirectory) throws {
        self.directory = directory
        let store = try Store(path: directory.databasePath)
        try AlertFixture.fill(store, alerts: 100_000, machines: 1_000)
        try store.setIntegration("json", enabled: true, actor: "bench")
        let token = AccessToken.generate()
        _ = try store.createToken(integration: "json", hash: token.hash, expiresAt: Timestamp.now() + .seconds(3600), actor: "bench")
        let key = APIKey.generate()
        _ = try store.createAPIKey(name: "bench", hash: key.hash, actor: "bench")
        apiKey = key.key
        var configuration = ServerConfiguration(databasePath: directory.databasePath, ruleSet: .builtin())
        configuration.port = port
        configuration.pushesPerSecond = 0
        configuration.eventsPerSecond = 0
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let app = try buildApplication(configuration, logger: logger)
        Task { try await app.runService() }
        Thread.sleep(forTimeInterval: 1)
        // The pushers must really commit, or the figures measure an idle server.
        let probe = DispatchSemaphore(value: 0)
        let status = Mutex(-1)
        Task.detached { [port] in
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/ingest?format=json")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(token.token)", forHTTPHeaderField: "Authorization")
            request.httpBody = Data(#"{"hostname":"probe","n":0}"#.utf8)
            let code = ((try? await URLSession.shared.data(for: request))?.1 as? HTTPURLResponse)?.statusCode ?? -1
            status.withLock { $0 = code }
            probe.signal()
        }
        probe.wait()
        let probed = status.withLock { $0 }
        precondition(probed == 200, "the benchmark's push was answered \(probed), not 200: the figures would measure an idle server")
        for pusher in 0..<2 {
            Task.detached { [port] in
                var batch = 0
                while true {
                    batch += 1
                    let body = (0..<2_000).map { #"{"hostname":"push-\#(pusher)","n":\#(batch * 10_000 + $0),"CommandLine":"curl http://x/\#($0)"}"# }
                    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/ingest?format=json")!)
                    request.httpMethod = "POST"
                    request.setValue("Bearer \(token.token)", forHTTPHeaderField: "Authorization")
                    request.httpBody = Data(body.joined(separator: "\n").utf8)
                    _ = try? await URLSession.shared.data(for: request)
                }
            }
        }
        Thread.sleep(forTimeInterval: 1)
    }

    /// The status of one GET with the API key.
    func get(_ path: String) async -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return -1 }
        return (response as? HTTPURLResponse)?.statusCode ?? -1
    }
}
