import Foundation
import VigilModel

/// `vigil hunt --report FILE`: one self-contained HTML page of a hunt (the summary, a timeline
/// chart by level, the top rules and hosts, every file's outcome and the matches).
///
/// Every value from the hunted files is escaped where it is written, the page has no script
/// and its Content-Security-Policy forbids any, so a hostile field can only ever show as text.
struct HuntReport {
    /// The most matches the page lists (all of them are counted and charted).
    static let listedMatches = 5_000

    private var listed: [HuntMatch] = []
    private var unlisted = 0
    /// Every match's time and level, for the chart.
    private var points: [(time: Int64, level: Severity)] = []

    mutating func add(_ match: HuntMatch, severity: Severity) {
        points.append((match.time.microseconds, severity))
        if listed.count < Self.listedMatches { listed.append(match) } else { unlisted += 1 }
    }

    /// The page, sorted by event time like `--timeline`.
    func html(summary: [HuntSummaryRow], files: [HuntFileReport], events: Int, generated: Timestamp) -> String {
        let matches = listed.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        let skipped = files.filter { $0.error != nil }.count
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <title>Vigil hunt report</title>
            <style>
            body{font:14px system-ui,sans-serif;margin:2em;color:#1d1d1f}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}
            table{border-collapse:collapse;margin:.5em 0}td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
            th{background:#f4f4f6}td.n{text-align:right}code{font-size:12px;white-space:pre-wrap;word-break:break-all}
            .informational{color:#5b6b7b}.low{color:#2f6f3e}.medium{color:#a66a00}.high{color:#c2410c}.critical{color:#b00020;font-weight:600}
            </style></head><body>
            <h1>Vigil hunt report</h1>
            <p id="totals">\(points.count) matches in \(files.count) files (\(events) events)\(skipped > 0 ? "; \(skipped) skipped" : ""). Generated \(generated.iso8601.htmlEscaped).</p>

            """
        page += "<h2>Matches over time, by level</h2>\n" + chart()
        page += section("Top rules", rows: summary.filter { $0.group == "rule" }.prefix(10))
        page += section("Top hosts", rows: summary.filter { $0.group == "host" }.prefix(10))
        page += section("By level", rows: summary.filter { $0.group == "level" }[...])
        page += "<h2>Files</h2>\n<table id=\"files\"><tr><th>File</th><th>Format</th><th>Events</th><th>Rejected</th><th>Matches</th></tr>\n"
        for file in files {
            if let error = file.error {
                page += "<tr><td>\(file.file.htmlEscaped)</td><td colspan=\"4\">skipped: \(error.htmlEscaped)</td></tr>\n"
            } else {
                page += "<tr><td>\(file.file.htmlEscaped)</td><td>\(file.format.htmlEscaped)</td><td class=\"n\">\(file.events)</td>"
                    + "<td class=\"n\">\(file.rejected)</td><td class=\"n\">\(file.matches)</td></tr>\n"
            }
        }
        page += "</table>\n<h2>Matches</h2>\n"
        if unlisted > 0 { page += "<p>The first \(Self.listedMatches) by file order, sorted by time; \(unlisted) more are counted above.</p>\n" }
        page += "<table id=\"matches\"><tr><th>Time</th><th>Level</th><th>Rule</th><th>MITRE</th><th>Host</th><th>File</th><th>Matched fields</th></tr>\n"
        for match in matches {
            let fields = match.matchedFields.text
            page += "<tr><td>\(match.time.iso8601.htmlEscaped)</td><td class=\"\(match.severity.htmlEscaped)\">\(match.severity.htmlEscaped)</td>"
                + "<td>\(match.title.htmlEscaped)</td><td>\(match.techniques.joined(separator: " ").htmlEscaped)</td>"
                + "<td>\(match.hostname.htmlEscaped)</td><td>\("\(match.file):\(match.line)".htmlEscaped)</td>"
                + "<td><code>\(fields.htmlEscaped)</code></td></tr>\n"
        }
        return page + "</table>\n</body></html>\n"
    }

    private func section(_ title: String, rows: ArraySlice<HuntSummaryRow>) -> String {
        var html = "<h2>\(title.htmlEscaped)</h2>\n<table><tr><th>Name</th><th>Highest level</th><th>Matches</th><th>First</th><th>Last</th></tr>\n"
        for row in rows {
            html += "<tr><td>\(row.key.htmlEscaped)</td><td class=\"\(row.level.name)\">\(row.level.name)</td><td class=\"n\">\(row.matches)</td>"
                + "<td>\(row.first.iso8601.htmlEscaped)</td><td>\(row.last.iso8601.htmlEscaped)</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// An inline SVG of matches per time slice, stacked by level.
    private func chart() -> String {
        guard let first = points.map(\.time).min(), let last = points.map(\.time).max() else { return "<p>No matches.</p>\n" }
        let slices = 48
        let span = max(last - first, 1)
        var counts = Array(repeating: Array(repeating: 0, count: Severity.allCases.count), count: slices)
        for point in points {
            let slice = min(slices - 1, Int((Double(point.time - first) / Double(span)) * Double(slices)))
            counts[slice][point.level.rawValue] += 1
        }
        let tallest = max(counts.map { $0.reduce(0, +) }.max() ?? 1, 1)
        let width = 960.0, height = 180.0, barWidth = width / Double(slices)
        let colours: [Severity: String] = [.informational: "#9aa5b1", .low: "#4c9a5f", .medium: "#e0a100", .high: "#ea580c", .critical: "#b00020"]
        var svg = "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height) + 24)\" role=\"img\">\n"
        for (index, slice) in counts.enumerated() {
            var top = height
            for level in Severity.allCases where slice[level.rawValue] > 0 {
                let barHeight = Double(slice[level.rawValue]) / Double(tallest) * (height - 10)
                top -= barHeight
                let box = String(format: "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", Double(index) * barWidth, top, barWidth - 1, barHeight)
                svg += "<rect \(box) fill=\"\(colours[level] ?? "#999")\"><title>\(slice[level.rawValue]) \(level.name)</title></rect>\n"
            }
        }
        svg += "<text x=\"0\" y=\"\(Int(height) + 18)\" font-size=\"12\">\(Timestamp(microseconds: first).iso8601.htmlEscaped)</text>\n"
        svg += "<text x=\"\(Int(width))\" y=\"\(Int(height) + 18)\" font-size=\"12\" text-anchor=\"end\">\(Timestamp(microseconds: last).iso8601.htmlEscaped)</text>\n"
        let legend = Severity.allCases.map { "<span class=\"\($0.name)\">■ \($0.name)</span>" }.joined(separator: " ")
        return svg + "</svg>\n<p>\(legend); the tallest bar is \(tallest) matches.</p>\n"
    }
}
