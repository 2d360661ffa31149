import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import VigilTooling

/// A headless Chromium driven through chromedriver's W3C WebDriver protocol (JSON over HTTP on
/// loopback): Debian's `chromium` and `chromium-driver`, which .ci/run installs. It talks to
/// chromedriver with AsyncHTTPClient: Foundation's URLSession on Linux fails on chromedriver's
/// headers, which have no space after the colon.
final class WebDriver: @unchecked Sendable {
    static let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let chromium = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// The W3C name of an element reference in WebDriver's JSON.
    private static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let driver: Process
    private let base: URL
    private let session: String
    private let profile: TemporaryDirectory

    /// Starts chromedriver on a free loopback port and opens a browser session with a fresh profile.
    init() async throws {
        let chromedriver = try #require(Self.chromedriver, "chromedriver is needed: apt-get install chromium-driver (.ci/run does)")
        let chromium = try #require(Self.chromium, "Chromium is needed: apt-get install chromium (.ci/run does)")
        // Below the ephemeral ports (32768 and up) that the suite's many client connections take,
        // and below the ports its servers listen on (20000 and up).
        let port = Int.random(in: 10_000...19_999)
        driver = Process()
        driver.executableURL = URL(fileURLWithPath: chromedriver)
        driver.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        driver.standardOutput = FileHandle.nullDevice
        driver.standardError = FileHandle.nullDevice
        try driver.run()
        base = URL(string: "http://127.0.0.1:\(port)")!
        profile = TemporaryDirectory()
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let status = try? await Self.send(base, "GET", "status", nil) as? [String: Any], status["ready"] as? Bool == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let options: [String: Any] = [
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                     "--disable-dev-shm-usage", "--window-size=1280,1000", "--user-data-dir=\(profile.url.path)"],
        ]
        let created = try? await Self.send(base, "POST", "session", ["capabilities": ["alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": options]]])
        guard let value = created as? [String: Any], let id = value["sessionId"] as? String else {
            kill(driver.processIdentifier, SIGKILL)
            driver.waitUntilExit()
            throw Failure(description: "chromedriver opened no browser session: \(String(describing: created))")
        }
        session = id
        // Finding an element waits up to 10 s for it, so a step after a click that navigates finds the new page.
        _ = try await command("POST", "timeouts", ["implicit": 10_000])
    }

    /// Ends the session (which closes the browser) and stops chromedriver, which ignores SIGTERM.
    func quit() async {
        _ = try? await command("DELETE", "")
        kill(driver.processIdentifier, SIGKILL)
        driver.waitUntilExit()
    }

    func open(_ url: String) async throws { _ = try await command("POST", "url", ["url": url]) }

    func currentURL() async throws -> URL { URL(string: try await command("GET", "url") as? String ?? "")! }

    /// The element the CSS selector finds; fails when there is none.
    func element(_ selector: String) async throws -> String {
        let found = try await command("POST", "element", ["using": "css selector", "value": selector])
        guard let reference = (found as? [String: Any])?[Self.elementKey] as? String else {
            throw Failure(description: "no element matches \(selector) on \(try await currentURL())")
        }
        return reference
    }

    func type(_ text: String, into selector: String) async throws {
        _ = try await command("POST", "element/\(try await element(selector))/value", ["text": text])
    }

    func click(_ selector: String) async throws {
        _ = try await onFreshElement(selector) { try await command("POST", "element/\($0)/click", [:]) }
    }

    func text(_ selector: String) async throws -> String {
        try await onFreshElement(selector) { try await command("GET", "element/\($0)/text") } as? String ?? ""
    }

    /// A DOM property (`value`, `className`) of the element.
    func property(_ name: String, of selector: String) async throws -> String {
        try await onFreshElement(selector) { try await command("GET", "element/\($0)/property/\(name)") } as? String ?? ""
    }

    /// Runs `body` on the element the selector finds, finding it again (up to 5 times) when the
    /// page it was found on was replaced in between: a form's response page can arrive after the
    /// element was found on the page that sent it.
    private func onFreshElement(_ selector: String, _ body: (String) async throws -> Any?) async throws -> Any? {
        var attempt = 1
        while true {
            do {
                return try await body(try await element(selector))
            } catch let failure as Failure where failure.description.contains("stale element") && attempt < 5 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Runs `script` (a function body) in the page and returns its result.
    func run(_ script: String) async throws -> Any? {
        try await command("POST", "execute/sync", ["script": script, "args": [Any]()])
    }

    /// Chooses the `<option>` with `value` in the `<select>` the selector finds.
    func select(_ value: String, in selector: String) async throws {
        try await click("\(selector) option[value=\"\(value)\"]")
    }

    /// Waits until `condition` (a script returning a boolean) holds; false after `timeout`.
    func wait(for condition: String, timeout: Duration = .seconds(60)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await run(condition) as? Bool == true { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    /// Saves a PNG screenshot of the page.
    func screenshot(to file: URL) async throws {
        guard let encoded = try await command("GET", "screenshot") as? String, let data = Data(base64Encoded: encoded) else {
            throw Failure(description: "chromedriver returned no screenshot")
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await Self.send(base, method, "session/\(session)" + (path.isEmpty ? "" : "/\(path)"), body)
    }

    /// One WebDriver call: its `value`, or a `Failure` carrying WebDriver's error.
    private static func send(_ base: URL, _ method: String, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        var request = HTTPClientRequest(url: base.appendingPathComponent(path).absoluteString)
        request.method = .init(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let data = Data((try await response.body.collect(upTo: 64 * 1024 * 1024)).readableBytesView)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let value = object?["value"]
        let status = Int(response.status.code)
        if status >= 400 {
            let error = (value as? [String: Any]).map { "\($0["error"] ?? ""): \($0["message"] ?? "")" } ?? String(decoding: data, as: UTF8.self)
            throw Failure(description: "WebDriver \(method) /\(path) failed (\(status)): \(error)")
        }
        return value is NSNull ? nil : value
    }
}
