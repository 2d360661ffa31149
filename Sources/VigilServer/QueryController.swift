import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import VigilModel
import VigilPipeline
import VigilStore

/// Alert, incident, machine and integration reads and alert triage (any API key), and
/// integration administration (an admin key). Reads use a connection no other request uses
/// at the same time (`QueryReaders`); writes go through the single writer.
struct QueryController: Sendable {
    let service: IngestService
    let readers: QueryReaders

    func register(on router: Router<VigilRequestContext>) {
        let reads = router.group("/api/v1").add(middleware: APIKeyAuthenticator(service: service, admin: false))
        reads.get("alerts", use: alerts)
        reads.get("alerts/:id", use: alert)
        reads.get("incidents", use: incidents)
        reads.get("machines", use: machines)
        reads.get("integrations", use: integrations)
        reads.patch("alerts/:id", use: updateAlert)
        let admin = router.group("/api/v1/integrations").add(middleware: APIKeyAuthenticator(service: service, admin: true))
        admin.post(":name/on") { request, context in try await setIntegration(enabled: true, request, context) }
        admin.post(":name/off") { request, context in try await setIntegration(enabled: false, request, context) }
        admin.post(":name/tokens", use: issueToken)
    }

    struct AlertsPage: ResponseEncodable {
        var alerts: [AlertRow]
        /// Pass as `cursor` for the next page; null on the last.
        var next: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(alerts, forKey: .alerts)
            try container.encode(next, forKey: .next)
        }

        enum CodingKeys: String, CodingKey { case alerts, next }
    }

    @Sendable func alerts(_ request: Request, context: VigilRequestContext) async throws -> AlertsPage {
        var filter = try Self.filter(request.uri.queryParameters)
        let query = filter
        let rows = try await read { try $0.alerts(query) }
        filter.offset += rows.count
        return AlertsPage(alerts: rows, next: rows.count == filter.limit ? Self.cursor(offset: filter.offset) : nil)
    }

    @Sendable func alert(_ request: Request, context: VigilRequestContext) async throws -> AlertDetail {
        let id = try context.parameters.require("id", as: Int64.self)
        guard let detail = try await read({ try AlertDetail(id: id, from: $0) }) else { throw apiError(.notFound, "there is no alert \(id)") }
        return detail
    }

    /// The fields `PATCH /api/v1/alerts/{id}` accepts; any other is refused.
    struct AlertPatch: Decodable {
        var status: String?
        var classification: String?
        var determination: String?
        var assignedTo: String?
        var comment: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case status, classification, determination, assignedTo = "assigned_to", comment
        }
    }

    @Sendable func updateAlert(_ request: Request, context: VigilRequestContext) async throws -> AlertRow {
        let id = try context.parameters.require("id", as: Int64.self)
        let accepted = AlertPatch.CodingKeys.allCases.map(\.stringValue).joined(separator: ", ")
        var request = request
        let body = Data(String(buffer: try await request.collectBody(upTo: 64 * 1024)).utf8)
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw apiError(.badRequest, "send a JSON object with any of: \(accepted)")
        }
        if let unknown = object.keys.first(where: { AlertPatch.CodingKeys(rawValue: $0) == nil }) {
            throw apiError(.badRequest, "unknown field '\(unknown)'; use \(accepted)")
        }
        guard let patch = try? JSONDecoder().decode(AlertPatch.self, from: body) else {
            throw apiError(.badRequest, "every field is text: send a JSON object with any of: \(accepted)")
        }
        let update = AlertUpdate(
            status: patch.status.map { AlertUpdate.canonical($0, in: AlertUpdate.statuses) ?? $0 },
            classification: patch.classification.map { AlertUpdate.canonical($0, in: AlertUpdate.classifications) ?? $0 },
            determination: patch.determination, assignedTo: patch.assignedTo, comment: patch.comment)
        do {
            _ = try await service.updateAlert(id: id, update, actor: context.keyActor)
        } catch let error as StoreError {
            throw apiError(error.code == .notFound ? .notFound : .badRequest, error.message)
        }
        guard let alert = try await read({ try $0.alert(id: id) }) else { throw apiError(.notFound, "there is no alert \(id)") }
        return alert
    }

    struct IncidentsPage: ResponseEncodable {
        var incidents: [IncidentRow]
    }

    @Sendable func incidents(_ request: Request, context: VigilRequestContext) async throws -> IncidentsPage {
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
        let (wanted, minimum, count) = (status, minimumSeverity, limit)
        return IncidentsPage(incidents: try await read { try $0.incidents(status: wanted, minimumSeverity: minimum, limit: count) })
    }

    struct MachinesPage: ResponseEncodable {
        var machines: [MachineRow]
    }

    @Sendable func machines(_ request: Request, context: VigilRequestContext) async throws -> MachinesPage {
        MachinesPage(machines: try await read { try $0.machines() })
    }

    struct IntegrationsPage: ResponseEncodable {
        var integrations: [IntegrationRow]
    }

    @Sendable func integrations(_ request: Request, context: VigilRequestContext) async throws -> IntegrationsPage {
        IntegrationsPage(integrations: try await read { try $0.integrations() })
    }

    struct IntegrationState: ResponseEncodable {
        var integration: String
        var enabled: Bool
    }

    func setIntegration(enabled: Bool, _ request: Request, _ context: VigilRequestContext) async throws -> IntegrationState {
        let name = try context.parameters.require("name")
        do {
            try await service.setIntegration(name, enabled: enabled, actor: context.keyActor)
        } catch let error as StoreError {
            throw apiError(error.code == .notFound ? .notFound : .badRequest, error.message)
        }
        return IntegrationState(integration: name, enabled: enabled)
    }

    struct IssuedToken: ResponseEncodable {
        var id: Int64
        var integration: String
        /// The token itself: shown this once, only its hash is stored.
        var token: String
        var expires: Timestamp
    }

    @Sendable func issueToken(_ request: Request, context: VigilRequestContext) async throws -> EditedResponse<IssuedToken> {
        let name = try context.parameters.require("name")
        var request = request
        let body = Data(String(buffer: try await request.collectBody(upTo: 4096)).utf8)
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        let validFor = (object["valid_for"] as? String) ?? "7d"
        let machines = object["machines"] as? [String] ?? []
        if object["machines"] != nil, object["machines"] as? [String] == nil || machines.contains(where: { $0.isEmpty || $0.contains(",") }) {
            throw apiError(.badRequest, "machines must be a list of host-name patterns such as [\"web-*\"], none empty or holding a comma")
        }
        guard let seconds = DurationText.seconds(validFor), seconds > 0, seconds <= 90 * 86_400 else {
            throw apiError(.badRequest, "valid_for must be a duration such as 30m, 12h or 7d, at most 90d")
        }
        do {
            let issued = try await service.issueToken(integration: name, validFor: seconds, machines: machines, actor: context.keyActor)
            return EditedResponse(status: .created, response: IssuedToken(id: issued.id, integration: name, token: issued.token, expires: issued.expires))
        } catch let error as StoreError {
            throw apiError(error.code == .notFound ? .notFound : .conflict, error.message)
        }
    }

    /// Runs `query` on a read connection no other request uses meanwhile, on the blocking pool.
    private func read<T: Sendable>(_ query: @escaping @Sendable (QueryStore) throws -> T) async throws -> T {
        try await readers.read(query)
    }

    static func cursor(offset: Int) -> String { Data("offset:\(offset)".utf8).base64EncodedString() }

    /// The `vigil alerts` filters as query parameters (`AlertFilter(parameters:)`); `cursor` continues a listing.
    static func filter(_ parameters: FlatDictionary<Substring, Substring>) throws -> AlertFilter {
        var named: [String: String] = [:]
        for (name, value) in parameters where name != "cursor" { named[String(name)] = String(value) }
        var filter: AlertFilter
        do { filter = try AlertFilter(parameters: named) } catch { throw apiError(.badRequest, error.description) }
        if let cursor = parameters.get("cursor") {
            guard let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8), text.hasPrefix("offset:"),
                let offset = Int(text.dropFirst(7)), offset >= 0
            else { throw apiError(.badRequest, "the cursor is not one this server issued; start again without it") }
            filter.offset = offset
        }
        return filter
    }
}

extension AlertDetail: ResponseEncodable {}
extension AlertRow: ResponseEncodable {}
