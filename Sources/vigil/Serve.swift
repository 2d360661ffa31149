import ArgumentParser
import Foundation
import Hummingbird
import Logging
import VigilDetection
import VigilModel
import VigilPipeline
import VigilPostgres
import VigilServer
import VigilStore

extension Vigil {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the HTTP API: push ingest with integration tokens, alert queries and triage with API keys.",
            discussion: "SIGINT or SIGTERM stops accepting, finishes in-flight requests, commits the writer and exits 0.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var ruleOptions: RuleOptions
        @OptionGroup var correlationOptions: CorrelationOptions
        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on (0 picks a free one).") var port = 8080
        @Option(name: .customLong("body-limit"), help: "Largest push body in bytes, after decompression.") var bodyLimit = 16 * 1024 * 1024
        @Option(name: .customLong("push-rate"), help: "Pushes per second each token may make, bursts up to twice that (0: no limit); more get 429.") var pushRate = 100
        @Option(name: .customLong("event-rate"), help: "Records per second each token may push, bursts up to twice that (0: no limit); more get 429.") var eventRate = 50_000
        @Option(name: .customLong("max-events-per-push"), help: "Records one push may carry; a larger push is refused whole with 413.") var maxEventsPerPush = 100_000
        @Option(name: .customLong("header-timeout"), help: "Close a connection that has not sent a request's headers this long after opening or after its last response (10s, 1m).")
        var headerTimeout = DurationArgument(seconds: 10)
        @Option(name: .customLong("body-idle-timeout"), help: "Close a connection whose request body pauses this long.")
        var bodyIdleTimeout = DurationArgument(seconds: 30)
        @Option(name: .customLong("max-connections"), help: "Connections served at once; more wait until one closes.") var maxConnections = 256
        @Flag(name: .customLong("metrics-auth"), help: "Serve /metrics only to requests with an API key (read or admin).") var metricsAuth = false
        @OptionGroup var delivery: DeliveryOptions
        @OptionGroup var hunting: HuntingStoreOptions
        @Flag(name: .customLong("no-delivery"), help: "Do not send alerts to subscriptions here (another node or `vigil deliver` does).") var noDelivery = false
        @Option(name: .customLong("delivery-interval"), help: "How often delivery looks for new changes.")
        var deliveryInterval = PreciseDurationArgument(milliseconds: 500)
        @Option(name: .customLong("session-lifetime"), help: "How long a web console sign-in lasts (8h, 30m).")
        var sessionLifetime = DurationArgument(seconds: 8 * 3600)
        @Flag(name: .customLong("secure-cookies"), help: "Mark the web console's session cookie Secure (behind a TLS proxy; also when it sends X-Forwarded-Proto: https).")
        var secureCookies = false
        @Option(name: .customLong("inactive-after"), help: "The web console shows a machine inactive when no data arrived from it for this long (7d).")
        var inactiveAfter = DurationArgument(seconds: 7 * 86_400)
        @Flag(name: .customLong("no-ingest"), help: "Serve queries and triage only, next to a running `vigil import`; pushes get 503.") var noIngest = false

        func validate() throws {
            if !(0...65_535).contains(port) { throw ValidationError("--port must be 0…65535") }
            if bodyLimit <= 0 { throw ValidationError("--body-limit must be positive") }
            if pushRate < 0 { throw ValidationError("--push-rate must be 0 or more") }
            if eventRate < 0 { throw ValidationError("--event-rate must be 0 or more") }
            if maxEventsPerPush <= 0 { throw ValidationError("--max-events-per-push must be positive") }
            if maxConnections <= 0 { throw ValidationError("--max-connections must be positive") }
            if headerTimeout.seconds <= 0 || bodyIdleTimeout.seconds <= 0 {
                throw ValidationError("--header-timeout and --body-idle-timeout must be positive (10s, 1m)")
            }
        }

        func run() async throws {
            var logger = Logger(label: "vigil")
            logger.logLevel = .info
            if let url = try store.postgresURL() {
                try await runIngestNode(on: url, logger: logger)
                return
            }
            if hunting.huntingStore != nil {
                throw ValidationError("--hunting-store is for a PostgreSQL store; on SQLite, hunting opens the file read-only")
            }
            let opened = try store.open(creating: true)
            // A query-only server leaves the writer lock to the import running next to it.
            let writerLock = noIngest ? nil : try store.lockForWriting(opened, holder: "vigil serve")
            defer { withExtendedLifetime(writerLock) {} }
            let ruleSet = try ruleOptions.load(stored: opened.storedRules()).excluding(ids: opened.disabledRuleIDs())
            let app = try buildApplication(configuration(databasePath: store.path, ruleSet: ruleSet), logger: logger)
            try await app.runService()
        }

        /// How many read connections an ingest node keeps open for its query routes.
        static let postgresReaders = 4

        /// An ingest node on a shared PostgreSQL store: pushes, reads, and the correlator role when free.
        private func runIngestNode(on url: PostgresURL, logger: Logger) async throws {
            if noIngest { throw ValidationError("--no-ingest has no use on PostgreSQL: a node there serves pushes and reads; query with `vigil alerts --store`") }
            let opened = try store.openPostgres(url)
            let ruleSet = try ruleOptions.load(stored: opened.storedRules()).excluding(ids: opened.disabledRuleIDs())
            let configuration = configuration(databasePath: url.description, ruleSet: ruleSet)
            let backend: IngestBackend
            let correlator: CorrelatorNode
            do {
                let writer = try PostgresWriter(url: url)
                backend = IngestBackend(writer: writer, correlationQueue: writer, state: opened, checks: try PostgresStore(url: url),
                                        control: try PostgresStore(url: url))
                correlator = CorrelatorNode(writer: try PostgresWriter(url: url), ruleSet: ruleSet, maxFutureSkew: configuration.maxFutureSkew)
            } catch {
                throw CLIError("\(error)")
            }
            // Read connections for the query routes, opened when first needed and kept for the next request.
            let readers = ReaderPool(size: Self.postgresReaders) { try PostgresStore(url: url) }
            let deliveryStore = configuration.delivers ? try store.openPostgres(url) : nil
            // Custom detections run where hunting SQL runs: on nodes with a hunting store.
            let huntingEngine = try hunting.engine()
            let detectionSchedule = huntingEngine == nil ? nil : try store.openPostgres(url)
            let app = try buildIngestNodeApplication(configuration, backend: backend, readers: readers, deliveryStore: deliveryStore,
                                                     hunting: huntingEngine, detectionSchedule: detectionSchedule, correlator: correlator,
                                                     logger: logger)
            try await app.runService()
        }

        private func configuration(databasePath: String, ruleSet: RuleSet) -> ServerConfiguration {
            var configuration = ServerConfiguration(databasePath: databasePath, ruleSet: ruleSet)
            configuration.host = host
            configuration.port = port
            configuration.bodyLimit = bodyLimit
            configuration.pushesPerSecond = pushRate
            configuration.acceptsPushes = !noIngest
            configuration.maxFutureSkew = correlationOptions.maxFutureSkew.duration
            configuration.metricsRequireKey = metricsAuth
            configuration.consoleSessionLifetime = sessionLifetime.duration
            configuration.secureCookies = secureCookies
            configuration.machineActivityWindow = inactiveAfter.duration
            configuration.maxEventsPerPush = maxEventsPerPush
            configuration.eventsPerSecond = eventRate
            configuration.headerTimeout = headerTimeout.duration
            configuration.bodyIdleTimeout = bodyIdleTimeout.duration
            configuration.maxConnections = maxConnections
            configuration.delivers = !noDelivery
            configuration.deliveryInterval = deliveryInterval.duration
            configuration.retryPolicy = delivery.policy
            return configuration
        }
    }

    struct APIKeyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apikey", abstract: "API keys for reading and triaging over HTTP (they can never push).",
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a key: printed once, alone on stdout.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "A name for whoever uses it.") var name: String
            @Flag(help: "Also allow turning integrations on and off and issuing push tokens over HTTP.") var admin = false
            @Option(help: "Stop accepting the key after this long (30d, 12h); without it, the key lasts until revoked.")
            var expires: DurationArgument?

            func run() throws {
                let (key, hash) = APIKey.generate()
                let expiresAt = expires.map { Timestamp.now() + $0.duration }
                let id = try store.openIntegrations(creating: true).createAPIKey(name: name, hash: hash, admin: admin, expiresAt: expiresAt, actor: currentActor)
                print(key)
                writeStderr("API key \(id) (\(name)). It is shown only now.")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List API keys (never the keys themselves).")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                emit(try render(try store.openIntegrations().apiKeys(), as: output.format))
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke an API key.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The key id.") var id: Int64

            func run() throws {
                do { try store.openIntegrations().revokeAPIKey(id: id, actor: currentActor) } catch let error as StoreError { throw CLIError(error.description) }
                print("API key \(id) is revoked")
            }
        }
    }
}
