import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import VigilModel
import VigilPipeline
import VigilStore

/// Alert, incident, machine and integration reads, and alert triage, with an API key.
/// Reads use their own connection per request (WAL readers never block the writer).
struct QueryController: Sendable {
    let service: IngestService
    let databasePath: String

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/v1/alerts") { request, _ in
            _ = try await authorize(request)
            var filter = try Self.filter(request.uri.queryParameters)
            let store = try reader()
            let rows = try store.alerts(filter)
            let next = rows.count == filter.limit ? Self.cursor(offset: filter.offset + rows.count) : nil
            filter.offset += rows.count
            return Response.json("{\"alerts\":" + alertTable(rows).render(.json) + ",\"next\":" + (next.map(JSONText.quoted) ?? "null") + "}")
        }
        router.get("/api/v1/alerts/:id") { request, context in
            _ = try await authorize(request)
            let id = try context.parameters.require("id", as: Int64.self)
            guard let detail = try AlertDetail(id: id, from: reader()) else { throw apiError(.notFound, "there is no alert \(id)") }
            return Response.json(detail.json)
        }
        router.patch("/api/v1/alerts/:id") { request, context in
            let actor = try await authorize(request)
            let id = try context.parameters.require("id", as: Int64.self)
            var request = request
            let body = try await request.collectBody(upTo: 64 * 1024)
            guard let object = try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8)) as? [String: Any] else {
                throw apiError(.badRequest, "send a JSON object with any of: status, classification, determination, assigned_to, comment")
            }
            let allowed: Set<String> = ["status", "classification", "determination", "assigned_to", "comment"]
            if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
                throw apiError(.badRequest, "unknown field '\(unknown)'; use status, classification, determination, assigned_to, comment")
            }
            let word = { (key: String, vocabulary: [String]) in
                (object[key] as? String).map { AlertUpdate.canonical($0, in: vocabulary) ?? $0 }
            }
            let update = AlertUpdate(status: word("status", AlertUpdate.statuses), classification: word("classification", AlertUpdate.classifications),
                                     determination: object["determination"] as? String, assignedTo: object["assigned_to"] as? String,
                                     comment: object["comment"] as? String)
            do {
                _ = try await service.updateAlert(id: id, update, actor: "apikey:\(actor)")
            } catch let error as StoreError {
                throw apiError(error.code == .notFound ? .notFound : .badRequest, error.message)
            }
            guard let alert = try reader().alert(id: id) else { throw apiError(.notFound, "there is no alert \(id)") }
            var row = String(alertTable([alert]).render(.jsonl))
            if row.hasSuffix("\n") { row.removeLast() }
            return Response.json(row)
        }
        router.get("/api/v1/incidents") { request, _ in
            _ = try await authorize(request)
            let parameters = request.uri.queryParameters
            var limit = 100
            if let text = parameters.get("limit") {
                guard let value = Int(text), value > 0 else { throw apiError(.badRequest, "limit must be a positive number (at most \(AlertFilter.pageCap))") }
                limit = min(value, AlertFilter.pageCap)
            }
            var minimumSeverity: Severity?
            if let text = parameters.get("severity") {
                guard let severity = Severity(name: text) else {
                    throw apiError(.badRequest, "unknown severity '\(text)'; use one of \(Severity.allCases.map(\.name).joined(separator: ", "))")
                }
                minimumSeverity = severity
            }
            var status: String?
            if let text = parameters.get("status") {
                guard let canonical = AlertUpdate.canonical(text, in: AlertUpdate.statuses) else {
                    throw apiError(.badRequest, "unknown status '\(text)'; use one of \(AlertUpdate.statuses.joined(separator: ", "))")
                }
                status = canonical
            }
            let rows = try reader().incidents(status: status, minimumSeverity: minimumSeverity, limit: limit)
            return Response.json("{\"incidents\":" + incidentTable(rows).render(.json) + "}")
        }
        router.get("/api/v1/machines") { request, _ in
            _ = try await authorize(request)
            return Response.json("{\"machines\":" + machineTable(try reader().machines()).render(.json) + "}")
        }
        for action in ["on", "off"] {
            router.post("/api/v1/integrations/:name/\(action)") { request, context in
                let actor = try await authorize(request, admin: true)
                let name = try context.parameters.require("name")
                do {
                    try await service.setIntegration(name, enabled: action == "on", actor: "apikey:\(actor)")
                } catch let error as StoreError {
                    throw apiError(error.code == .notFound ? .notFound : .badRequest, error.message)
                }
                return Response.json("{\"integration\":\(JSONText.quoted(name)),\"enabled\":\(action == "on")}")
            }
        }
        router.post("/api/v1/integrations/:name/tokens") { request, context in
            let actor = try await authorize(request, admin: true)
            let name = try context.parameters.require("name")
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 4096))
            let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
            let validFor = (object["valid_for"] as? String) ?? "7d"
            guard let seconds = DurationText.seconds(validFor), seconds > 0, seconds <= 90 * 86_400 else {
                throw apiError(.badRequest, "valid_for must be a duration such as 30m, 12h or 7d, at most 90d")
            }
            do {
                let issued = try await service.issueToken(integration: name, validFor: seconds, actor: "apikey:\(actor)")
                return Response.json("{\"id\":\(issued.id),\"integration\":\(JSONText.quoted(name)),\"token\":\(JSONText.quoted(issued.token)),\"expires\":\(JSONText.quoted(issued.expires.iso8601))}", status: .created)
            } catch let error as StoreError {
                throw apiError(error.code == .notFound ? .notFound : .conflict, error.message)
            }
        }
        router.get("/api/v1/integrations") { request, _ in
            _ = try await authorize(request)
            var table = OutputTable(columns: ["name", "display_name", "platforms", "formats", "enabled", "since", "active_tokens",
                                              "last_data_at", "events_received", "events_refused"])
            table.rows = try reader().integrations().map { row in
                [.text(row.name), .text(row.displayName), .json("[" + row.platforms.map(JSONText.quoted).joined(separator: ",") + "]"),
                 .json("[" + row.formats.map(JSONText.quoted).joined(separator: ",") + "]"), .json(row.enabled ? "true" : "false"),
                 OutputValue(row.enabledChangedAt), .integer(Int64(row.activeTokens)), OutputValue(row.lastDataAt),
                 .integer(row.eventsReceived), .integer(row.eventsRefused)]
            }
            return Response.json("{\"integrations\":" + table.render(.json) + "}")
        }
    }

    /// The API key's name, or a 401 (403 for a non-admin key on an admin route) that says what is wrong.
    private func authorize(_ request: Request, admin: Bool = false) async throws -> String {
        let key = IngestController.bearer(request)
        if let key, key.hasPrefix("vgl_") {
            throw apiError(.unauthorized, "this is a push token, which can only push data; read with an API key from `vigil apikey create`")
        }
        guard let granted = try await service.authorizeAPIKey(key) else {
            throw apiError(.unauthorized, key == nil ? "no API key: send 'Authorization: Bearer <key>' with a key from `vigil apikey create`"
                                                     : "the API key is unknown or revoked; create one with `vigil apikey create`")
        }
        if admin && !granted.admin {
            throw apiError(.forbidden, "this API key may read and triage but not administer integrations; create one with `vigil apikey create NAME --admin`")
        }
        return granted.name
    }

    private func reader() throws -> some AlertQueries & IntegrationsAndTokens & AuditLog {
        do { return try Store(readingAt: databasePath) } catch { throw apiError(.serviceUnavailable, "the database cannot be opened: \(error)") }
    }

    static func cursor(offset: Int) -> String { Data("offset:\(offset)".utf8).base64EncodedString() }

    /// The `vigil alerts` filters as query parameters; `cursor` continues a listing.
    static func filter(_ parameters: FlatDictionary<Substring, Substring>) throws -> AlertFilter {
        var filter = AlertFilter()
        func word(_ name: String, _ vocabulary: [String]) throws -> String? {
            guard let text = parameters.get(name) else { return nil }
            guard let canonical = AlertUpdate.canonical(text, in: vocabulary) else {
                throw apiError(.badRequest, "unknown \(name) '\(text)'; use one of \(vocabulary.joined(separator: ", "))")
            }
            return canonical
        }
        func time(_ name: String) throws -> Timestamp? {
            guard let text = parameters.get(name) else { return nil }
            guard let time = Timestamp(absoluteOrRelative: text) else {
                throw apiError(.badRequest, "\(name) '\(text)' is neither ISO 8601 nor relative (30m, 24h, 7d)")
            }
            return time
        }
        if let os = parameters.get("os") {
            guard let platform = OSPlatform(rawValue: os) else { throw apiError(.badRequest, "os must be one of \(OSPlatform.allCases.map(\.rawValue).joined(separator: ", "))") }
            filter.platform = platform
        }
        if let severity = parameters.get("severity") {
            guard let parsed = Severity(name: severity) else { throw apiError(.badRequest, "unknown severity '\(severity)'") }
            filter.minimumSeverity = parsed
        }
        if let list = parameters.get("severity_in") {
            let names = list.split(separator: ",").map(String.init)
            if let unknown = names.first(where: { Severity(name: $0) == nil }) {
                throw apiError(.badRequest, "severity_in: unknown severity '\(unknown)'; use one of \(Severity.allCases.map(\.name).joined(separator: ", "))")
            }
            filter.severities = Set(names.compactMap(Severity.init(name:)))
        }
        filter.status = try word("status", AlertUpdate.statuses)
        filter.classification = try word("classification", AlertUpdate.classifications)
        filter.since = try time("since")
        filter.until = try time("until")
        filter.firstSince = try time("first_since")
        filter.firstUntil = try time("first_until")
        filter.createdSince = try time("created_since")
        filter.createdUntil = try time("created_until")
        filter.machine = parameters.get("machine")
        filter.rule = parameters.get("rule")
        filter.technique = parameters.get("technique")
        filter.integration = parameters.get("integration")
        if let incident = parameters.get("incident") {
            guard let id = Int64(incident), id > 0 else { throw apiError(.badRequest, "incident must be an incident id (a positive number)") }
            filter.incident = id
        }
        filter.text = parameters.get("search")
        if let sort = parameters.get("sort") {
            guard let parsed = AlertFilter.Sort(rawValue: sort) else {
                throw apiError(.badRequest, "sort must be one of \(AlertFilter.Sort.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.sort = parsed
        }
        if let order = parameters.get("order") {
            guard order == "asc" || order == "desc" else { throw apiError(.badRequest, "order must be asc or desc") }
            filter.ascending = order == "asc"
        }
        if let limit = parameters.get("limit") {
            guard let value = Int(limit), value > 0 else { throw apiError(.badRequest, "limit must be a positive number") }
            filter.limit = min(value, AlertFilter.pageCap)
        }
        if let cursor = parameters.get("cursor") {
            guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8), text.hasPrefix("offset:"),
                let offset = Int(text.dropFirst(7)), offset >= 0
            else { throw apiError(.badRequest, "the cursor is not one this server issued; start again without it") }
            filter.offset = offset
        }
        return filter
    }
}
