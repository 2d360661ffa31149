import Foundation
import VigilModel

/// The output formats of every listing.
enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, jsonl, csv
}

/// A row type the CLI lists: it encodes itself (the same encoding the HTTP API serves), and its
/// coding keys, in declaration order, are the columns of the table and CSV views.
protocol Listable: Encodable {
    associatedtype CodingKeys: CodingKey & CaseIterable
    /// The columns `--format table` shows; every column when empty.
    static var tableColumns: [String] { get }
}

extension Listable {
    static var tableColumns: [String] { [] }
    static var columns: [String] { CodingKeys.allCases.map(\.stringValue) }
}

/// Renders `rows` as a table, JSON (an array, one row per line), JSON lines or CSV.
func render<Row: Listable>(_ rows: [Row], as format: OutputFormat) throws -> String {
    switch format {
    case .json:
        if rows.isEmpty { return "[]" }
        return "[\n" + (try rows.map { "  " + (try jsonLine($0)) }).joined(separator: ",\n") + "\n]"
    case .jsonl:
        return try rows.map(jsonLine).joined(separator: "\n")
    case .csv:
        return ([Row.columns.map(csvField).joined(separator: ",")] + (try csvRecords(rows))).joined(separator: "\n")
    case .table:
        return try table(rows)
    }
}

/// One row as one line of JSON.
func jsonLine(_ row: some Encodable) throws -> String {
    String(decoding: try JSONEncoder.vigil.encode(row), as: UTF8.self)
}

/// The rows as CSV records, without the header (a record may span lines inside quotes).
func csvRecords<Row: Listable>(_ rows: [Row]) throws -> [String] {
    try rows.map { row in
        let cells = try ColumnEncoder.cells(of: row)
        return Row.columns.map { csvField(cells[$0] ?? "") }.joined(separator: ",")
    }
}

/// One RFC 4180 field. A cell that a spreadsheet would run as a formula (one starting with
/// `=`, `+`, `-`, `@`, tab or CR) is neutralized with a leading single quote, as OWASP advises
/// for CSV injection: event data is attacker-controlled.
func csvField(_ text: String) -> String {
    var text = text
    if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Aligned columns for a terminal: control characters escaped, long cells cut at 60.
private func table<Row: Listable>(_ rows: [Row]) throws -> String {
    alignedTable(headers: Row.shownColumns.map { $0.uppercased() }, cells: try rows.map(tableCells))
}

extension Listable {
    /// The columns of the table view.
    static var shownColumns: [String] { tableColumns.isEmpty ? columns : tableColumns }
}

/// One row's cells in the table view: control characters escaped, long cells cut at 60.
func tableCells<Row: Listable>(_ row: Row) throws -> [String] {
    let values = try ColumnEncoder.cells(of: row)
    return Row.shownColumns.map { column in
        let text = (values[column] ?? "").terminalSafe
        return text.count > 60 ? String(text.prefix(59)) + "…" : text
    }
}

/// `cells` under `headers`, each column as wide as its widest cell.
func alignedTable(headers: [String], cells: [[String]]) -> String {
    var widths = headers.map(\.count)
    for row in cells {
        for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    return ([alignedLine(headers, widths: widths)] + cells.map { alignedLine($0, widths: widths) }).joined(separator: "\n")
}

/// One line of an aligned table: each value padded to its column's width.
func alignedLine(_ values: [String], widths: [Int]) -> String {
    zip(values, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }
        .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
}

/// Prints rendered output; nothing at all when it is empty (an empty JSON-lines listing).
func emit(_ rendered: String) {
    if !rendered.isEmpty { print(rendered) }
}
