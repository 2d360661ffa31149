import Foundation
import VigilModel

/// A value in command output, typed so JSON keeps numbers and nulls.
enum OutputValue {
    case text(String)
    case integer(Int64)
    case null
    /// Already-serialized JSON (an object of fields, say).
    case json(String)

    init(_ text: String?) { self = text.map(OutputValue.text) ?? .null }
    init(_ time: Timestamp?) { self = time.map { .text($0.iso8601) } ?? .null }

    var plain: String {
        switch self {
        case .text(let text): text
        case .integer(let value): String(value)
        case .null: ""
        case .json(let json): json
        }
    }

    var jsonText: String {
        switch self {
        case .text(let text): JSONText.quoted(text)
        case .integer(let value): String(value)
        case .null: "null"
        case .json(let json): json
        }
    }
}

/// Rows with named columns, printed as a table, JSON, JSON lines or CSV.
struct OutputTable {
    /// Column names (snake_case, stable: scripts rely on them).
    var columns: [String]
    /// The subset shown by `--format table`; every column when empty.
    var tableColumns: [String] = []
    var rows: [[OutputValue]] = []

    func render(_ format: OutputFormat) -> String {
        switch format {
        case .json:
            if rows.isEmpty { return "[]" }
            return "[\n" + rows.map { "  " + object($0) }.joined(separator: ",\n") + "\n]"
        case .jsonl:
            return rows.map(object).joined(separator: "\n")
        case .csv:
            return ([columns.map(csvField).joined(separator: ",")]
                + rows.map { $0.map { csvField($0.plain) }.joined(separator: ",") }).joined(separator: "\n")
        case .table:
            return table()
        }
    }

    private func object(_ row: [OutputValue]) -> String {
        "{" + zip(columns, row).map { JSONText.quoted($0) + ":" + $1.jsonText }.joined(separator: ",") + "}"
    }

    private func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func table() -> String {
        let shown = tableColumns.isEmpty ? columns : tableColumns
        let indices = shown.compactMap { columns.firstIndex(of: $0) }
        let cells = rows.map { row in
            indices.map { index in
                let text = row[index].plain.replacingOccurrences(of: "\n", with: " ")
                return text.count > 60 ? String(text.prefix(59)) + "…" : text
            }
        }
        let headers = indices.map { columns[$0].uppercased() }
        var widths = headers.map(\.count)
        for row in cells {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(headers)] + cells.map(line)).joined(separator: "\n")
    }
}

/// Prints rendered output; nothing at all when it is empty (an empty JSON-lines listing).
func emit(_ rendered: String) {
    if !rendered.isEmpty { print(rendered) }
}
