import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import ServiceLifecycle
import VigilModel
import VigilPipeline
import VigilStore

/// The live alert stream (any API key) and subscription administration (an admin key).
struct DeliveryController: Sendable {
    let service: IngestService
    /// Where the live stream reads the outbox: each poll borrows a connection.
    let readers: QueryReaders
    /// Sends `notify test` messages; nil on a server that does not deliver.
    let worker: DeliveryWorker?
    /// How often an idle stream looks for new outbox entries.
    static let streamPollInterval: Duration = .milliseconds(250)
    /// An idle stream sends a comment this often, so proxies keep it open and a gone client is noticed.
    static let keepAliveInterval: Duration = .seconds(15)

    func register(on router: Router<VigilRequestContext>) {
        router.group("/api/v1/alerts/stream").add(middleware: APIKeyAuthenticator(service: service, admin: false)).get(use: stream)
        let admin = router.group("/api/v1/subscriptions").add(middleware: APIKeyAuthenticator(service: service, admin: true))
        admin.get(use: list)
        admin.post(use: create)
        admin.get(":name", use: status)
        admin.delete(":name", use: remove)
        admin.post(":name/enable") { request, context in try await setEnabled(true, request, context) }
        admin.post(":name/disable") { request, context in try await setEnabled(false, request, context) }
        admin.post(":name/test", use: test)
        admin.post(":name/redeliver", use: redeliver)
    }

    // MARK: The live stream

    /// `GET /api/v1/alerts/stream`: Server-Sent Events, one per outbox entry the filter wants, as
    /// they commit. Each event's `id` is the outbox id; a client that reconnects with
    /// `Last-Event-ID` gets every entry after it, none twice. Without it, the stream starts now.
    @Sendable func stream(_ request: Request, context: VigilRequestContext) async throws -> Response {
        var parameters: [String: String] = [:]
        for (name, value) in request.uri.queryParameters where name != "last_event_id" { parameters[String(name)] = String(value) }
        if let unknown = parameters.keys.first(where: { !OutboxFilter.parameterNames.contains($0) }) {
            throw apiError(.badRequest, "unknown parameter '\(unknown)'; the stream takes \(OutboxFilter.parameterNames.joined(separator: ", ")) and last_event_id")
        }
        let filter: OutboxFilter
        do { filter = try OutboxFilter(parameters: parameters, defaultKinds: OutboxKind.allCases) } catch { throw apiError(.badRequest, error.description) }
        let resumeText = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("last_event_id")
        var resumeAfter: Int64?
        if let resumeText {
            guard let id = Int64(resumeText.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                throw apiError(.badRequest, "Last-Event-ID must be the id of an event this stream sent (a number)")
            }
            resumeAfter = id
        }
        let start: Int64
        if let resumeAfter { start = resumeAfter } else { start = try await readers.read { try $0.latestOutboxID() } }
        let readers = readers
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            // A stream ends when the client goes (a write throws) or the server shuts down.
            try await Self.follow(readers, after: start, filter: filter, writer: &writer)
            try await writer.finish(nil)
        })
    }

    private static func follow(_ readers: QueryReaders, after start: Int64, filter: OutboxFilter,
                               writer: inout any ResponseBodyWriter) async throws {
        var cursor = start
        var lastWrite = ContinuousClock.now
        try await writer.write(ByteBuffer(string: "retry: 2000\n: stream of outbox entries after \(start)\n\n"))
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let after = cursor
            let entries = try await readers.read { try $0.outbox(after: after, limit: 200) }
            for entry in entries where filter.wants(entry) {
                let data = String(decoding: DeliveryPayload(entry).encoded(), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "id: \(entry.id)\nevent: \(entry.kind.rawValue)\ndata: \(data)\n\n"))
                lastWrite = .now
            }
            cursor = entries.last?.id ?? cursor
            guard entries.isEmpty else { continue }
            if ContinuousClock.now - lastWrite >= keepAliveInterval {
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                lastWrite = .now
            }
            try await Task.sleep(for: streamPollInterval)
        }
    }

    // MARK: Subscriptions

    struct SubscriptionsPage: ResponseEncodable {
        var subscriptions: [SubscriptionRow]
    }

    @Sendable func list(_ request: Request, context: VigilRequestContext) async throws -> SubscriptionsPage {
        SubscriptionsPage(subscriptions: try await service.onControl { try $0.subscriptions() })
    }

    /// The body of `POST /api/v1/subscriptions`.
    struct NewSubscription: Decodable {
        var name: String
        var webhook: String?
        var syslog: String?
        var tls: Bool?
        var caFile: String?
        var format: String?
        var minSeverity: String?
        var os: [String]?
        var rule: [String]?
        var on: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, webhook, syslog, tls, caFile = "ca_file", format, minSeverity = "min_severity", os, rule, on
        }
    }

    struct CreatedSubscription: ResponseEncodable {
        var subscription: SubscriptionRow
        /// The webhook signing secret: shown this once.
        var secret: String?
    }

    @Sendable func create(_ request: Request, context: VigilRequestContext) async throws -> EditedResponse<CreatedSubscription> {
        var request = request
        let accepted = NewSubscription.CodingKeys.allCases.map(\.stringValue).joined(separator: ", ")
        let body = Data(String(buffer: try await request.collectBody(upTo: 16 * 1024)).utf8)
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw apiError(.badRequest, "send a JSON object with name, webhook or syslog, and any of: \(accepted)")
        }
        if let unknown = object.keys.first(where: { NewSubscription.CodingKeys(rawValue: $0) == nil }) {
            throw apiError(.badRequest, "unknown field '\(unknown)'; use \(accepted)")
        }
        let new: NewSubscription
        do { new = try JSONDecoder().decode(NewSubscription.self, from: body) } catch {
            throw apiError(.badRequest, "name, webhook, syslog, ca_file, format and min_severity are text, tls is true or false, os, rule and on are lists of text")
        }
        let spec = try Self.spec(new)
        let secret = spec.transport == .webhook ? WebhookSignature.newSecret() : ""
        let actor = context.keyActor
        do {
            let row = try await service.onControl { try $0.createSubscription(spec, secret: secret, actor: actor) }
            return EditedResponse(status: .created, response: CreatedSubscription(subscription: row, secret: secret.isEmpty ? nil : secret))
        } catch let error as StoreError {
            throw apiError(.badRequest, error.message)
        }
    }

    static func spec(_ new: NewSubscription) throws -> SubscriptionSpec {
        let transport: DeliveryTransport, target: String
        switch (new.webhook, new.syslog) {
        case (let url?, nil): (transport, target) = (.webhook, url)
        case (nil, let address?): (transport, target) = (.syslog, address)
        default: throw apiError(.badRequest, "give exactly one of webhook (a URL) and syslog (HOST:PORT)")
        }
        var format: DeliveryFormat?
        if let text = new.format {
            guard let parsed = DeliveryFormat(rawValue: text), transport.formats.contains(parsed) else {
                throw apiError(.badRequest, "a \(transport.rawValue) subscription's format is one of \(transport.formats.map(\.rawValue).joined(separator: ", "))")
            }
            format = parsed
        }
        var parameters: [String: String] = [:]
        parameters["on"] = new.on?.joined(separator: ",")
        parameters["min_severity"] = new.minSeverity
        parameters["os"] = new.os?.joined(separator: ",")
        parameters["rule"] = new.rule?.joined(separator: ",")
        let filter: OutboxFilter
        do { filter = try OutboxFilter(parameters: parameters, defaultKinds: [.alertCreated]) } catch { throw apiError(.badRequest, error.description) }
        return SubscriptionSpec(name: new.name, transport: transport, target: target, tls: new.tls ?? false, caFile: new.caFile,
                                format: format, minimumSeverity: filter.minimumSeverity, platforms: filter.platforms,
                                rules: filter.rules, kinds: filter.kinds)
    }

    struct SubscriptionStatus: ResponseEncodable {
        var subscription: SubscriptionRow
        var deadLetters: [DeadLetterRow]

        enum CodingKeys: String, CodingKey { case subscription, deadLetters = "dead_letters" }
    }

    @Sendable func status(_ request: Request, context: VigilRequestContext) async throws -> SubscriptionStatus {
        let name = try context.parameters.require("name")
        return try await administering {
            try await service.onControl { store in
                guard let row = try store.subscription(named: name) else { throw StoreError(.notFound, "there is no subscription '\(name)'") }
                return SubscriptionStatus(subscription: row, deadLetters: try store.deadLetters(of: name))
            }
        }
    }

    struct Done: ResponseEncodable {
        var subscription: String
        var outcome: String
    }

    @Sendable func remove(_ request: Request, context: VigilRequestContext) async throws -> Done {
        let (name, actor) = (try context.parameters.require("name"), context.keyActor)
        try await administering { try await service.onControl { try $0.removeSubscription(name, actor: actor) } }
        return Done(subscription: name, outcome: "removed")
    }

    func setEnabled(_ enabled: Bool, _ request: Request, _ context: VigilRequestContext) async throws -> Done {
        let (name, actor) = (try context.parameters.require("name"), context.keyActor)
        try await administering { try await service.onControl { try $0.setSubscription(name, enabled: enabled, actor: actor) } }
        return Done(subscription: name, outcome: enabled ? "enabled" : "disabled")
    }

    @Sendable func test(_ request: Request, context: VigilRequestContext) async throws -> Done {
        let (name, actor) = (try context.parameters.require("name"), context.keyActor)
        guard let worker else { throw apiError(.serviceUnavailable, "this server does not deliver (--no-delivery); use `vigil notify test`") }
        guard try await service.onControl({ try $0.subscription(named: name) }) != nil else {
            throw apiError(.notFound, "there is no subscription '\(name)'")
        }
        return Done(subscription: name, outcome: try await worker.test(name, actor: actor))
    }

    struct Redelivered: ResponseEncodable {
        var subscription: String
        var requeued: Int
    }

    @Sendable func redeliver(_ request: Request, context: VigilRequestContext) async throws -> Redelivered {
        let (name, actor) = (try context.parameters.require("name"), context.keyActor)
        let count = try await administering { try await service.onControl { try $0.redeliverDeadLetters(of: name, actor: actor) } }
        return Redelivered(subscription: name, requeued: count)
    }

    /// Store errors as API errors: 404 for a missing subscription, 400 otherwise.
    private func administering<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as StoreError {
            throw apiError(error.code == .notFound ? .notFound : .badRequest, error.message)
        }
    }
}

extension SubscriptionRow: ResponseEncodable {}
