import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import VigilDetection
import VigilModel
import VigilPipeline
import VigilStore

/// What `vigil serve` needs.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var databasePath: String
    /// The largest push body accepted, after decompression.
    public var bodyLimit = 16 * 1024 * 1024
    /// Pushes per second each token may make (bursts up to twice that); 0 means no limit.
    public var pushesPerSecond = 100
    /// Records per second each token may push (bursts up to twice that); 0 means no limit.
    public var eventsPerSecond = 50_000
    /// False for a query-only server next to `vigil import`: pushes get 503.
    public var acceptsPushes = true
    /// How far after the wall clock an event may be dated and still enter a correlation window.
    public var maxFutureSkew: Duration = .seconds(86_400)
    /// `/metrics` answers only requests with an API key (`vigil serve --metrics-auth`).
    public var metricsRequireKey = false
    /// A connection must send a request's headers this soon after it opens (or after the
    /// previous response); otherwise it is closed.
    public var headerTimeout: Duration = .seconds(10)
    /// A request body may pause this long between bytes; longer, and the connection is closed.
    public var bodyIdleTimeout: Duration = .seconds(30)
    /// Connections open at once, at most; more wait in the listen backlog until one closes.
    public var maxConnections = 256
    /// Events (records) one push may carry, at most; a larger push is refused whole (413).
    public var maxEventsPerPush = 100_000
    /// Whether this server runs the delivery worker (`vigil serve --no-delivery` leaves it to `vigil deliver`).
    public var delivers = true
    /// How often the delivery worker looks for new outbox entries.
    public var deliveryInterval: Duration = .milliseconds(500)
    public var retryPolicy = RetryPolicy()
    /// How long a custom detection's query may run.
    public var customDetectionTimeout: Duration = .seconds(30)
    /// The longest the custom-detection scheduler sleeps before it looks for due detections.
    public var customDetectionPollInterval: Duration = .seconds(15)
    /// How long a web console session lasts after sign-in.
    public var consoleSessionLifetime: Duration = .seconds(8 * 3600)
    /// Mark the console's session cookie Secure on every response (`vigil serve --secure-cookies`,
    /// behind a TLS proxy); without it, only when the proxy says `X-Forwarded-Proto: https`.
    public var secureCookies = false
    /// The console shows a machine as inactive when no data arrived from it for this long.
    public var machineActivityWindow: Duration = .seconds(7 * 86_400)
    public var ruleSet: RuleSet

    public init(databasePath: String, ruleSet: RuleSet) {
        self.databasePath = databasePath
        self.ruleSet = ruleSet
    }
}

/// Builds the Hummingbird application: the router plus the ingest service, whose shutdown
/// runs after in-flight requests finished.
public func buildApplication(_ configuration: ServerConfiguration, logger: Logger) throws -> some ApplicationProtocol {
    let service = try IngestService(databasePath: configuration.databasePath, ruleSet: configuration.ruleSet,
                                    pushesPerSecond: configuration.pushesPerSecond, eventsPerSecond: configuration.eventsPerSecond, maxFutureSkew: configuration.maxFutureSkew)
    if !["127.0.0.1", "::1", "localhost"].contains(configuration.host) {
        logger.warning("listening on \(configuration.host) without TLS: tokens, keys and events cross the network in clear text. Put a TLS proxy in front (see the README's 'Reliability and security').")
    }
    let worker = configuration.delivers
        ? DeliveryWorker(store: try Store(readingAt: configuration.databasePath), role: "serve", policy: configuration.retryPolicy,
                         metrics: service.metrics, logger: logger) : nil
    let router = buildRouter(configuration, service: service, delivery: worker, logger: logger)
    let timeouts = (header: configuration.headerTimeout, bodyIdle: configuration.bodyIdleTimeout)
    var app = Application(
        router: router,
        server: .http1(configuration: .init(
            additionalChannelHandlers: [SlowClientTimeouts(headerTimeout: timeouts.header, bodyIdleTimeout: timeouts.bodyIdle)])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "vigil",
                             availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections, logger: logger)),
        logger: logger)
    app.addServices([GroupCommitService(service: service, logger: logger)] as [any Service])
    if let worker { app.addServices([DeliveryService(worker: worker, interval: configuration.deliveryInterval)] as [any Service]) }
    app.addServices([CustomDetectionService(schedule: try Store(readingAt: configuration.databasePath),
                                            sql: .sqlite(path: configuration.databasePath), ingest: service,
                                            queryTimeout: configuration.customDetectionTimeout,
                                            pollInterval: configuration.customDetectionPollInterval, logger: logger)] as [any Service])
    return app
}

/// Builds an ingest node on a store that other nodes share (PostgreSQL): push ingest, the alert,
/// incident, machine and integration routes (reads through `readers`; triage and administration
/// on the control connection), delivery (subscriptions, the live stream, and a worker on
/// `deliveryStore` unless it is nil, whose leases keep two nodes from sending one subscription
/// at once; nodes of one host tell their leases apart by port), health, metrics
/// and the API document, the web console, events and machine timelines, hunting SQL through
/// `hunting` (501 without it) and with it custom detections on `detectionSchedule`'s
/// connection (each due run claimed by one node), plus the correlator role (`correlator`),
/// which one node at a time holds.
public func buildIngestNodeApplication(_ configuration: ServerConfiguration, backend: IngestBackend, readers: ReaderPool,
                                       deliveryStore: (any DeliveryStore)?, hunting: (any HuntingEngine)?,
                                       detectionSchedule: (any CustomDetectionStore)?, correlator: CorrelatorNode,
                                       logger: Logger) throws -> some ApplicationProtocol {
    let service = IngestService(backend: backend, ruleSet: configuration.ruleSet, pushesPerSecond: configuration.pushesPerSecond,
                                eventsPerSecond: configuration.eventsPerSecond, maxFutureSkew: configuration.maxFutureSkew)
    let delivery = deliveryStore.map {
        DeliveryWorker(store: $0, role: "serve", instance: String(configuration.port), policy: configuration.retryPolicy,
                       metrics: service.metrics, logger: logger)
    }
    let router = Router(context: VigilRequestContext.self)
    router.add(middleware: RequestLogMiddleware(metrics: service.metrics))
    router.add(middleware: ErrorShapeMiddleware())
    router.get("/health") { _, _ in Response.json(#"{"status":"ok","role":"ingest"}"#) }
    addMetricsAndDocument(to: router, configuration, service: service)
    let ingest = IngestController(service: service, configuration: configuration)
    router.group("/api/v1/ingest").add(middleware: PushTokenAuthenticator(service: service)).post(use: ingest.push)
    QueryController(service: service, readers: .pooled(readers)).register(on: router)
    DeliveryController(service: service, readers: .pooled(readers), worker: delivery).register(on: router)
    registerConsole(on: router, configuration, service: service, readers: .pooled(readers))
    let huntingSQL: HuntingSQL = hunting.map { .engine($0) } ?? .unavailable("""
        this node runs no hunting SQL: start it with --hunting-store naming a role that reads the hunting views only \
        (vigil init --hunting-role); events and machine timelines are served here all the same
        """)
    HuntingController(service: service, readers: .pooled(readers), sql: huntingSQL).register(on: router)
    var app = Application(
        router: router,
        server: .http1(configuration: .init(additionalChannelHandlers: [
            SlowClientTimeouts(headerTimeout: configuration.headerTimeout, bodyIdleTimeout: configuration.bodyIdleTimeout)])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "vigil",
                             availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections, logger: logger)),
        logger: logger)
    app.addServices([GroupCommitService(service: service, logger: logger), CorrelatorService(node: correlator, logger: logger)] as [any Service])
    if let delivery { app.addServices([DeliveryService(worker: delivery, interval: configuration.deliveryInterval)] as [any Service]) }
    if let hunting, let detectionSchedule {
        app.addServices([CustomDetectionService(schedule: detectionSchedule, sql: .engine(hunting), ingest: service,
                                                queryTimeout: configuration.customDetectionTimeout,
                                                pollInterval: configuration.customDetectionPollInterval, logger: logger)] as [any Service])
    }
    return app
}

/// The routes: push ingest (push token), queries and triage (API key), administration
/// (admin key), health, metrics and the API document. Authentication is middleware per group.
public func buildRouter(_ configuration: ServerConfiguration, service: IngestService, delivery: DeliveryWorker? = nil,
                        logger: Logger) -> Router<VigilRequestContext> {
    let router = Router(context: VigilRequestContext.self)
    router.add(middleware: RequestLogMiddleware(metrics: service.metrics))
    router.add(middleware: ErrorShapeMiddleware())
    router.get("/health") { _, _ in
        Response.json(#"{"status":"ok"}"#)
    }
    addMetricsAndDocument(to: router, configuration, service: service)
    if configuration.acceptsPushes {
        let ingest = IngestController(service: service, configuration: configuration)
        router.group("/api/v1/ingest").add(middleware: PushTokenAuthenticator(service: service)).post(use: ingest.push)
    } else {
        router.post("/api/v1/ingest") { _, _ -> Response in
            throw apiError(.serviceUnavailable, "this server runs with --no-ingest (a batch import owns the database); push to a server started without it")
        }
    }
    let readers = QueryReaders.sqlite(path: configuration.databasePath)
    DeliveryController(service: service, readers: readers, worker: delivery).register(on: router)
    QueryController(service: service, readers: readers).register(on: router)
    HuntingController(service: service, readers: readers, sql: .sqlite(path: configuration.databasePath)).register(on: router)
    registerConsole(on: router, configuration, service: service, readers: readers)
    return router
}

/// The web console, reading through `readers`.
private func registerConsole(on router: Router<VigilRequestContext>, _ configuration: ServerConfiguration, service: IngestService,
                             readers: QueryReaders) {
    let sessions = ConsoleSessions(lifetime: configuration.consoleSessionLifetime, service: service, readers: readers)
    ConsoleController(service: service, readers: readers, sessions: sessions,
                      renderer: ConsoleRenderer(), secureCookies: configuration.secureCookies,
                      activityWindow: configuration.machineActivityWindow).register(on: router)
}

/// `/metrics` (with an API key when `metricsRequireKey`) and `/openapi.yaml`, on every kind of node.
private func addMetricsAndDocument(to router: Router<VigilRequestContext>, _ configuration: ServerConfiguration, service: IngestService) {
    router.get("/metrics") { request, _ in
        if configuration.metricsRequireKey, try await service.authorizeAPIKey(bearerCredential(request)) == nil {
            throw apiError(.unauthorized, "this server serves /metrics only with an API key (vigil serve --metrics-auth): send 'Authorization: Bearer <key>' with a key from `vigil apikey create`")
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(string: service.metrics.render())))
    }
    router.get("/openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
    }
}

extension Response {
    /// A JSON response.
    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A JSON error with a message that says what to do.
func apiError(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> APIError {
    APIError(status: status, message: message, headers: headers)
}
