import ArgumentParser
import Foundation
import VigilModel
import VigilPostgres
import VigilStore

/// `--hunting-store URL`: the login role hunting SQL runs as on a PostgreSQL store.
struct HuntingStoreOptions: ParsableArguments {
    @Option(name: .customLong("hunting-store"), help: ArgumentHelp(
        "PostgreSQL: the store as the role hunting SQL runs as (default: $VIGIL_HUNTING_STORE).",
        discussion: "postgresql://vigil_hunter@host/database: a role that `vigil init --hunting-role` let read the hunting views only."))
    var huntingStore: String?

    /// The hunting engine a PostgreSQL store's hunting SQL needs, or an error that says how to set one up.
    func required() throws -> PostgresHuntingQuery {
        guard let engine = try engine() else {
            throw CLIError("""
                on PostgreSQL, hunting SQL runs as a role that reads the hunting views only: create one (CREATE ROLE \
                vigil_hunter LOGIN PASSWORD '…'), run `vigil init --store … --hunting-role vigil_hunter`, and name it with \
                --hunting-store postgresql://vigil_hunter@host/database (or VIGIL_HUNTING_STORE)
                """)
        }
        return engine
    }

    /// The hunting engine for a PostgreSQL store, or nil when no hunting store is named.
    func engine() throws -> PostgresHuntingQuery? {
        let environment = ProcessInfo.processInfo.environment
        guard let text = huntingStore ?? environment["VIGIL_HUNTING_STORE"], !text.isEmpty else { return nil }
        do { return PostgresHuntingQuery(url: try PostgresURL(text, environment: environment)) } catch { throw CLIError("--hunting-store: \(error)") }
    }
}

extension Vigil {
    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Advanced hunting: read-only SQL over the events, alerts, machines, incidents and detections views.",
            discussion: """
                Only SELECT over those views runs (the README lists their columns and the functions allowed); \
                `field(fields, 'CommandLine')` reads an event field. The database is opened read-only.
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var hunting: HuntingStoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Stop the query after this long (30s, 2m).") var timeout = DurationArgument(seconds: 30)
        @Option(help: "Return at most this many rows.") var limit = 10_000
        @Argument(help: "One SELECT statement.") var sql: String

        func validate() throws {
            if timeout.seconds <= 0 { throw ValidationError("--timeout must be positive (30s, 2m)") }
            if limit <= 0 || limit > 1_000_000 { throw ValidationError("--limit must be 1…1000000") }
        }

        func run() async throws {
            let result: HuntingQuery.Result
            if try store.postgresURL() != nil {
                let engine = try hunting.required()
                do { result = try await engine.run(sql, timeout: timeout.duration, rowCap: limit, byteCap: 64 << 20) } catch {
                    throw CLIError("\(error)")
                }
            } else {
                _ = try store.open()
                do {
                    result = try HuntingQuery(path: store.path).run(sql, timeout: timeout.duration, rowCap: limit)
                } catch {
                    throw CLIError(error.description)
                }
            }
            emit(try renderQuery(result, as: output.format))
            if result.truncated { writeStderr("stopped at \(limit) rows (--limit)") }
        }
    }
}

/// A query's rows in any output format: objects keyed by column for JSON, cells for the rest.
func renderQuery(_ result: HuntingQuery.Result, as format: OutputFormat) throws -> String {
    let objects = { result.rows.map { JSONValue.object(Dictionary(zip(result.columns, $0), uniquingKeysWith: { first, _ in first })) } }
    switch format {
    case .json:
        return "[\n" + (try objects().map { "  " + (try jsonLine($0)) }).joined(separator: ",\n") + "\n]"
    case .jsonl:
        return try objects().map(jsonLine).joined(separator: "\n")
    case .csv:
        return ([result.columns.map(csvField).joined(separator: ",")] + result.rows.map { $0.map { csvField($0.plainText) }.joined(separator: ",") })
            .joined(separator: "\n")
    case .table:
        let cells = result.rows.map { row in
            row.map { value in
                let text = value.plainText.terminalSafe
                return text.count > 60 ? String(text.prefix(59)) + "…" : text
            }
        }
        return alignedTable(headers: result.columns.map { $0.uppercased() }, cells: cells)
    }
}
