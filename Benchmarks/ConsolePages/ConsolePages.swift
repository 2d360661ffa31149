#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Benchmark
import Foundation
import Logging
import VigilIngest
import VigilModel
import VigilServer
import VigilStore
import VigilTooling

/// Web console pages, served by `vigil serve` in process from a store of 1M alerts on 5,000
/// machines (AlertFixture), signed in with a session cookie; each iteration is one page. The
/// target is every page under 200 ms: compare the p99 column. The store is filled once and
/// kept in the temporary folder (each benchmark runs in a process of its own).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock], maxDuration: .seconds(5), maxIterations: 200)
    guard let console = try? ConsoleServer() else { return }
    let pages = [
        ("dashboard", "/"),
        ("alert queue", "/alerts"),
        ("alert queue, high on linux, text", "/alerts?severity=high&os=linux&search=Rule"),
        ("alert queue, page 100", "/alerts?page=100"),
        ("alert page", "/alerts/500000"),
        ("incidents", "/incidents"),
        ("machines, first 100 of 5,000", "/machines"),
        ("machine page", "/machines/42"),
        ("onboarding", "/settings/onboarding"),
    ]
    for (name, path) in pages {
        Benchmark("Console \(name), 1M alerts") { benchmark in
            for _ in benchmark.scaledIterations {
                let status = await console.get(path)
                precondition(status == 200, "GET \(path) answered \(status)")
            }
        }
    }
}

/// A console signed in with an admin key over a store of 1M alerts.
final class ConsoleServer: Sendable {
    let port = Int.random(in: 20_000...40_000)
    let cookie: String

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bench-console-1M.sqlite").path
        if !FileManager.default.fileExists(atPath: path) {
            let filling = path + ".filling"
            try? FileManager.default.removeItem(atPath: filling)
            try AlertFixture.fill(try Store(path: filling), alerts: 1_000_000, machines: 5_000)
            try FileManager.default.moveItem(atPath: filling, toPath: path)
        }
        let store = try Store(path: path)
        let key = APIKey.generate()
        _ = try store.createAPIKey(name: "bench-\(port)", hash: key.hash, admin: true, actor: "bench")
        var configuration = ServerConfiguration(databasePath: path, ruleSet: .builtin())
        configuration.port = port
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let app = try buildApplication(configuration, logger: logger)
        Task { try await app.runService() }
        Thread.sleep(forTimeInterval: 1)
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/login")!)
        request.httpMethod = "POST"
        request.httpBody = Data("key=\(key.key)".utf8)
        let signedIn = DispatchSemaphore(value: 0)
        let delegate = NoRedirects()
        let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
        nonisolated(unsafe) var setCookie = ""
        session.dataTask(with: request) { _, response, _ in
            setCookie = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Set-Cookie") ?? ""
            signedIn.signal()
        }.resume()
        signedIn.wait()
        cookie = String(setCookie.split(separator: ";").first ?? "")
        precondition(cookie.hasPrefix("vigil_session="), "signing in to the console failed: no session cookie")
    }

    /// The status of one GET with the session cookie.
    func get(_ path: String) async -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.setValue(cookie, forHTTPHeaderField: "Cookie")
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return -1 }
        return (response as? HTTPURLResponse)?.statusCode ?? -1
    }
}

/// Keeps the sign-in's 303 and its Set-Cookie instead of following the redirect.
final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
