import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import VigilModel
import VigilTooling

/// The web console in a real headless Chromium, against the built `vigil serve` on loopback.
/// Screenshots of each page go to test-artifacts/console/ (ignored by git).
@Suite(.serialized) struct ConsoleBrowserTests {
    static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("test-artifacts/console")

    /// A server with an admin key, and a browser signed in to it.
    struct Console {
        let scratch: TemporaryDirectory
        let server: RunningServer
        let browser: WebDriver
        let key: String
        var base: String { "http://127.0.0.1:\(server.port)" }

        static func start() async throws -> Console {
            let scratch = TemporaryDirectory()
            try await vigil(["init"], in: scratch.url)
            let created = try await vigil(["apikey", "create", "analyst", "--admin"], in: scratch.url)
            let key = try #require(created.stdout.split(separator: "\n").last.map(String.init))
            let port = Int.random(in: 20_000...32_000)
            let process = try ReliabilityTests.start(["serve", "--port", String(port)], in: scratch.url)
            let server = RunningServer(process: process, port: port, token: "")
            guard try await ReliabilityTests.waitForHealth(port: port) else {
                server.stop()
                throw WebDriver.Failure(description: "vigil serve did not answer /health on port \(port)")
            }
            let browser: WebDriver
            do { browser = try await WebDriver() } catch {
                server.stop()
                throw error
            }
            return Console(scratch: scratch, server: server, browser: browser, key: key)
        }

        var directory: URL { scratch.url }

        func signIn() async throws {
            try await browser.open(base + "/")
            #expect(try await browser.currentURL().path == "/login", "signed out, the console sends the browser to sign in")
            try await browser.type(key, into: "#key")
            try await browser.click("#sign-in")
            // The sign-in posts a form and is redirected: the click can return before the
            // browser has followed the redirect.
            #expect(try await browser.wait(for: "return location.pathname === '/'", timeout: .seconds(20)), "signed in, the console opens")
        }

        func stop() async {
            await browser.quit()
            server.stop()
        }

        /// Pushes `body` with `token` and returns the HTTP status.
        func push(_ body: Data, format: String, hostname: String? = nil, token: String) async throws -> Int {
            var url = URLComponents(string: base + "/api/v1/ingest")!
            url.queryItems = [URLQueryItem(name: "format", value: format)] + (hostname.map { [URLQueryItem(name: "hostname", value: $0)] } ?? [])
            var request = URLRequest(url: url.url!)
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (_, response) = try await URLSession.shared.data(for: request)
            return (response as? HTTPURLResponse)?.statusCode ?? 0
        }

        func screenshot(_ name: String) async throws {
            try await browser.screenshot(to: ConsoleBrowserTests.screenshots.appendingPathComponent(name + ".png"))
        }
    }

    /// The seed flow: sign in, turn clamav on and generate a token, read it from the page, push
    /// a real clamscan log of the EICAR file with it, watch the detection-test page turn green,
    /// resolve the alert, turn the integration off (the machine goes inactive), and see the old
    /// token refused after turning it back on.
    @Test func theOnboardingAndDetectionTestFlowWorksInABrowser() async throws {
        let clamscan = try #require(DetectionTestFlowTests.clamscan, "ClamAV's clamscan is needed: apt-get install clamav (.ci/run does)")
        let console = try await Console.start()
        do {
            let browser = console.browser
            try await console.signIn()
            try await console.screenshot("dashboard")

            try await browser.open(console.base + "/settings/onboarding")
            try await browser.click("#on-clamav")
            #expect(try await browser.text(".notice").contains("Generate an access token"))
            try await browser.select("24h", in: "#integration-clamav select[name=valid_for]")
            try await browser.click("#token-clamav")
            let token = try await browser.property("value", of: "#issued-token")
            #expect(token.hasPrefix("vgl_"), "the page shows the new token once")
            #expect(try await browser.text(".issued .warning").contains("limited validity"))
            try await console.screenshot("onboarding-token")

            try await browser.open(console.base + "/detection-test?machine=av-host")
            #expect(try await browser.property("className", of: "#detection-status").contains("waiting"))

            // A real clamscan of the EICAR file.
            let scratch = TemporaryDirectory()
            _ = try scratch.write("eicar.com.txt", EICAR.testString)
            #expect(try await DetectionTestFlowTests.scanEICAR(with: clamscan, in: scratch.url) == 1, "clamscan exits 1 when it finds a virus")
            let log = try Data(contentsOf: scratch.url.appendingPathComponent("clamav.log"))
            #expect(try await console.push(log, format: "clamav", hostname: "av-host", token: token) == 200)

            #expect(try await browser.wait(for: "return document.getElementById('detection-status').classList.contains('received')"),
                    "the detection-test page turns green when the EICAR alert arrives")
            try await console.screenshot("detection-test-received")
            try await browser.click("#detection-alert")
            #expect(try await browser.text("#summary") == "EICAR test file detected")
            try await browser.select("resolved", in: "#status")
            try await browser.type("verified by the detection test", into: "#comment")
            try await browser.click("#save-triage")
            #expect(try await browser.text("#alert-status") == "resolved")
            #expect(try await browser.text("#comments + ul").contains("verified by the detection test"))
            try await console.screenshot("alert")

            try await browser.open(console.base + "/settings/onboarding")
            try await browser.click("#off-clamav")
            #expect(try await browser.text(".notice").contains("needs a new token"))
            try await browser.open(console.base + "/machines")
            #expect(try await browser.text("[data-machine=\"av-host\"]") == "inactive")
            try await console.screenshot("machines")

            try await browser.open(console.base + "/settings/onboarding")
            try await browser.click("#on-clamav")
            #expect(try await console.push(log, format: "clamav", hostname: "av-host", token: token) == 401,
                    "turning the integration off revoked the token; turning it on again does not revive it")
            #expect(try await browser.text("#integration-clamav table").contains("revoked"))
        } catch {
            await console.stop()
            throw error
        }
        await console.stop()
    }

    /// Event data is attacker-controlled: host names and fields holding markup and script are
    /// shown as text on every page, and nothing in them runs or becomes an element.
    @Test func hostileEventDataNeverRunsOrBecomesMarkup() async throws {
        let console = try await Console.start()
        do {
            let browser = console.browser
            try await vigil(["integration", "on", "json"], in: console.directory)
            let token = try await vigil(["integration", "token", "json"], in: console.directory).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let hostile = [
                "<script>window.__xss='host'</script>",
                "\"><img src=x onerror=\"window.__xss='img'\">",
                "javascript:window.__xss='url'",
            ]
            var lines: [String] = []
            for (index, text) in hostile.enumerated() {
                lines.append(#"{"@timestamp":"\#(Timestamp.now().iso8601)","host":{"name":\#(JSONText.quoted(text)),"os":{"platform":"linux","version":"12"}},"#
                    + #""logsource":{"category":"process_creation"},"Image":\#(JSONText.quoted(text)),"CommandLine":\#(JSONText.quoted("cat \(EICAR.testString) \(index) \(text)")),"#
                    + #""User":\#(JSONText.quoted(text)),"Link":\#(JSONText.quoted(text))}"#)
            }
            #expect(try await console.push(Data(lines.joined(separator: "\n").utf8), format: "json", token: token) == 200)
            try await console.signIn()
            var pages = ["/", "/alerts", "/machines", "/incidents"]
            let alerts = try await vigil(["alerts", "--format", "jsonl"], in: console.directory).stdout.split(separator: "\n")
            #expect(alerts.count >= hostile.count, "each hostile event raised the EICAR alert")
            for line in alerts {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                if let id = object?["id"] as? Int { pages.append("/alerts/\(id)") }
                if let machine = object?["machine_id"] as? Int { pages.append("/machines/\(machine)") }
            }
            for page in pages {
                try await browser.open(console.base + page)
                let check = """
                    return {
                      ran: window.__xss === undefined ? null : String(window.__xss),
                      images: document.getElementsByTagName('img').length,
                      scripts: Array.from(document.scripts).map(s => s.getAttribute('src')).join(','),
                      scriptLinks: Array.from(document.querySelectorAll('a[href]')).filter(a => a.getAttribute('href').trim().toLowerCase().startsWith('javascript:')).length,
                      shown: document.body.textContent.includes('<script>window.__xss')
                    };
                    """
                let result = try #require(try await browser.run(check) as? [String: Any], "the page \(page) answered the DOM check")
                #expect(result["ran"] is NSNull || result["ran"] == nil, "no hostile script ran on \(page)")
                #expect(result["images"] as? Int == 0, "no hostile element appeared on \(page)")
                #expect(result["scripts"] as? String == "/assets/console.js", "only the console's own script is on \(page)")
                #expect(result["scriptLinks"] as? Int == 0, "no javascript: link on \(page)")
                if page.hasPrefix("/alerts/") || page == "/machines" {
                    #expect(result["shown"] as? Bool == true, "the hostile text is shown as text on \(page)")
                }
            }
            try await browser.open(console.base + "/alerts")
            try await console.screenshot("alert-queue")
        } catch {
            await console.stop()
            throw error
        }
        await console.stop()
    }
}
