import VigilModel
import VigilStore

/// The dashboard's charts, drawn by the server as inline SVG: no script and no library, so
/// they show air-gapped and under the console's CSP. Colours come from CSS classes
/// (`sev-high`, `bar`); every label is HTML-escaped.
enum SVGChart {
    /// Alerts per day as bars stacked by severity, oldest day on the left, with a legend.
    static func alertsPerDay(_ points: [AlertTrendPoint], days: Int, now: Timestamp) -> String {
        let day: Int64 = 86_400_000_000
        let firstDay = (now.microseconds / day - Int64(days - 1)) * day
        var counts = Array(repeating: [Severity: Int](), count: days)
        for point in points {
            let index = Int((point.day - firstDay) / day)
            guard counts.indices.contains(index) else { continue }
            counts[index][point.severity, default: 0] += point.count
        }
        let highest = max(1, counts.map { $0.values.reduce(0, +) }.max() ?? 1)
        let (width, height, barWidth, top, bottom) = (days * 40 + 40, 220, 28, 10, 180)
        var svg = #"<svg class="chart" viewBox="0 0 \#(width) \#(height)" role="img" aria-label="Alerts per day by severity, last \#(days) days">"#
        svg += #"<text class="axis" x="0" y="\#(top + 10)">\#(highest)</text><line class="axis" x1="36" y1="\#(bottom)" x2="\#(width)" y2="\#(bottom)"/>"#
        for (index, perSeverity) in counts.enumerated() {
            let x = 40 + index * 40
            var y = bottom
            for severity in Severity.allCases {
                guard let count = perSeverity[severity], count > 0 else { continue }
                let barHeight = max(1, count * (bottom - top) / highest)
                y -= barHeight
                svg += #"<rect class="sev-\#(severity.name)" x="\#(x)" y="\#(y)" width="\#(barWidth)" height="\#(barHeight)"><title>\#(count) \#(severity.name)</title></rect>"#
            }
            let date = Timestamp(microseconds: firstDay + Int64(index) * day).iso8601
            let label = String(date.dropFirst(5).prefix(5))  // MM-DD
            svg += #"<text class="axis" x="\#(x)" y="\#(bottom + 16)">\#(label)</text>"#
        }
        for (index, severity) in Severity.allCases.reversed().enumerated() {
            let x = 40 + index * 110
            svg += #"<rect class="sev-\#(severity.name)" x="\#(x)" y="\#(height - 14)" width="10" height="10"/><text class="axis" x="\#(x + 14)" y="\#(height - 5)">\#(severity.name)</text>"#
        }
        return svg + "</svg>"
    }

    /// One horizontal bar per label, longest first as given, with its count.
    static func bars(_ values: [(label: String, count: Int)], caption: String) -> String {
        let highest = max(1, values.map(\.count).max() ?? 1)
        let rowHeight = 24
        let height = max(1, values.count) * rowHeight
        var svg = #"<svg class="chart" viewBox="0 0 480 \#(height)" role="img" aria-label="\#(caption.htmlEscaped)">"#
        for (index, value) in values.enumerated() {
            let y = index * rowHeight
            let length = max(1, value.count * 260 / highest)
            svg += #"<text class="axis" x="0" y="\#(y + 16)">\#(String(value.label.prefix(24)).htmlEscaped)</text>"#
            svg += #"<rect class="bar" x="160" y="\#(y + 4)" width="\#(length)" height="16"/><text class="axis" x="\#(164 + length)" y="\#(y + 16)">\#(value.count)</text>"#
        }
        return svg + "</svg>"
    }
}
