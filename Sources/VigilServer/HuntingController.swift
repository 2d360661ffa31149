import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOPosix
import VigilModel
import VigilPipeline
import VigilStore

/// Where a server runs hunting SQL (the API's queries and custom detections).
enum HuntingSQL: Sendable {
    /// On the SQLite file, opened read-only per query (`HuntingQuery`).
    case sqlite(path: String)
    /// Through an engine of the shared store (PostgreSQL's, as a role of its own).
    case engine(any HuntingEngine)
    /// Not here, for the reason given (a PostgreSQL node started without --hunting-store).
    case unavailable(String)

    /// Runs `sql`; a SQLite query runs on `threads`, off the cooperative pool.
    func run(_ sql: String, timeout: Duration, rowCap: Int, on threads: NIOThreadPool) async throws -> HuntingQuery.Result {
        switch self {
        case .sqlite(let path):
            return try await threads.runIfActive { try HuntingQuery(path: path).run(sql, timeout: timeout, rowCap: rowCap) }
        case .engine(let engine):
            return try await engine.run(sql, timeout: timeout, rowCap: rowCap, byteCap: 64 << 20)
        case .unavailable(let reason):
            throw StoreError(.unavailable, reason)
        }
    }
}

/// Advanced hunting over the store (any API key): read-only SQL over the hunting views
/// (`POST /api/v1/query`), events with `vigil events`' filters (`GET /api/v1/events`) and one
/// machine's timeline (`GET /api/v1/machines/{id}/timeline`).
struct HuntingController: Sendable {
    let service: IngestService
    /// Where events and timelines are read.
    let readers: QueryReaders
    /// Where hunting SQL runs.
    let sql: HuntingSQL

    /// The longest time limit a query may ask for, and the most rows it may return.
    static let timeoutCap: Int64 = 120
    static let rowCap = 100_000

    /// Hunting queries run on two threads of their own: a heavy query waits for one of them
    /// and never holds up the reads, pushes and key checks that the shared blocking pool serves.
    private static let queryThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    func register(on router: Router<VigilRequestContext>) {
        let reads = router.group("/api/v1").add(middleware: APIKeyAuthenticator(service: service, admin: false))
        reads.post("query", use: query)
        reads.get("events", use: events)
        reads.get("machines/:id/timeline", use: timeline)
    }

    // MARK: Queries

    /// The body of `POST /api/v1/query`.
    struct QueryRequest: Decodable {
        var sql: String
        var timeout: String?
        var limit: Int?

        enum CodingKeys: String, CodingKey, CaseIterable { case sql, timeout, limit }
    }

    struct QueryAnswer: ResponseEncodable {
        var columns: [String]
        var rows: [[JSONValue]]
        /// True when the query had more rows than `limit`.
        var truncated: Bool
    }

    @Sendable func query(_ request: Request, context: VigilRequestContext) async throws -> QueryAnswer {
        var request = request
        let body = Data(String(buffer: try await request.collectBody(upTo: 64 * 1024)).utf8)
        let accepted = QueryRequest.CodingKeys.allCases.map(\.stringValue).joined(separator: ", ")
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw apiError(.badRequest, "send a JSON object: {\"sql\": \"SELECT …\"}, with timeout (\"30s\") and limit if you like")
        }
        if let unknown = object.keys.sorted().first(where: { QueryRequest.CodingKeys(rawValue: $0) == nil }) {
            throw apiError(.badRequest, "unknown field '\(unknown)'; use \(accepted)")
        }
        guard let asked = try? JSONDecoder().decode(QueryRequest.self, from: body) else {
            throw apiError(.badRequest, "sql and timeout are text and limit a number: {\"sql\": \"SELECT …\", \"timeout\": \"30s\", \"limit\": 1000}")
        }
        var seconds: Int64 = 30
        if let text = asked.timeout {
            guard let parsed = DurationText.seconds(text), parsed > 0, parsed <= Self.timeoutCap else {
                throw apiError(.badRequest, "timeout must be a duration such as 10s or 2m, at most \(Self.timeoutCap)s")
            }
            seconds = parsed
        }
        let limit = asked.limit ?? 10_000
        guard (1...Self.rowCap).contains(limit) else { throw apiError(.badRequest, "limit must be 1…\(Self.rowCap)") }
        let timeout = Duration.seconds(seconds)
        do {
            if case .unavailable(let reason) = sql { throw apiError(.notImplemented, reason) }
            let result = try await sql.run(asked.sql, timeout: timeout, rowCap: limit, on: Self.queryThreads)
            return QueryAnswer(columns: result.columns, rows: result.rows, truncated: result.truncated)
        } catch let error as StoreError {
            switch error.code {
            case .timedOut: throw apiError(.unprocessableContent, error.message)
            case .invalidValue: throw apiError(.badRequest, error.message)
            case .sqlite: throw apiError(.badRequest, error.message)
            default: throw apiError(.serviceUnavailable, "the database cannot be read: \(error.message)")
            }
        }
    }

    // MARK: Events

    struct EventsPage: ResponseEncodable {
        var events: [EventRow]
        /// Pass as `cursor` for the next page; null on the last.
        var next: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(events, forKey: .events)
            try container.encode(next, forKey: .next)
        }

        enum CodingKeys: String, CodingKey { case events, next }
    }

    @Sendable func events(_ request: Request, context: VigilRequestContext) async throws -> EventsPage {
        let filter = try Self.filter(request.uri.queryParameters)
        let rows = try await readers.read { try $0.events(filter) }
        return EventsPage(events: rows, next: Self.next(after: rows.last.map { ($0.time, $0.id) }, full: rows.count == filter.limit))
    }

    struct Timeline: ResponseEncodable {
        var machineID: Int64
        var entries: [TimelineEntry]
        /// Pass as `cursor` for the next page; null on the last.
        var next: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(machineID, forKey: .machineID)
            try container.encode(entries, forKey: .entries)
            try container.encode(next, forKey: .next)
        }

        enum CodingKeys: String, CodingKey { case machineID = "machine_id", entries, next }
    }

    @Sendable func timeline(_ request: Request, context: VigilRequestContext) async throws -> Timeline {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            throw apiError(.badRequest, "the machine id is a positive number, as GET /api/v1/machines lists it")
        }
        let parameters = request.uri.queryParameters
        if parameters.get("machine") != nil { throw apiError(.badRequest, "the machine is in the path; drop the machine parameter") }
        let filter = try Self.filter(parameters)
        guard let entries = try await readers.read({ try $0.timeline(machineID: id, filter) }) else {
            throw apiError(.notFound, "there is no machine \(id); GET /api/v1/machines lists them")
        }
        let last = entries.last.map { ($0.event.time, $0.event.id) }
        return Timeline(machineID: id, entries: entries, next: Self.next(after: last, full: entries.count == filter.limit))
    }

    static func filter(_ parameters: FlatDictionary<Substring, Substring>) throws -> EventFilter {
        var named: [String: String] = [:]
        for (name, value) in parameters { named[String(name)] = String(value) }
        do { return try EventFilter(parameters: named) } catch { throw apiError(.badRequest, error.description) }
    }

    /// The cursor of the page after one that ended at `last`, when that page was full.
    static func next(after last: (time: Timestamp, id: Int64)?, full: Bool) -> String? {
        guard full, let last else { return nil }
        return EventPosition(time: last.time, id: last.id).cursor
    }

}
