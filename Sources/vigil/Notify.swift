import ArgumentParser
import Foundation
import Logging
import VigilModel
import VigilPipeline
import VigilServer
import VigilStore

extension Vigil {
    struct NotifyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notify",
            abstract: "Alert delivery: webhooks (JSON, Slack, Teams) and SIEM forwarding (CEF, RFC 5424 over TCP or TLS).",
            discussion: """
                `vigil serve` delivers as alerts commit; `vigil deliver` drains the outbox once, for batch set-ups.
                A new subscription starts with the next change: it does not replay the past.
                """,
            subcommands: [Add.self, List.self, Status.self, Test.self, Enable.self, Disable.self, Remove.self, Redeliver.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Subscribe a webhook or a syslog receiver to alert changes; a webhook's signing secret is printed once.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "A name for the subscription.") var name: String
            @Option(help: "POST each change to this http(s) URL, signed (X-Vigil-Signature).") var webhook: String?
            @Option(help: "Forward to a syslog receiver at HOST:PORT over TCP, octet-counted (RFC 6587).") var syslog: String?
            @Flag(help: "Use TLS to the syslog receiver.") var tls = false
            @Option(name: .customLong("ca-file"), help: "A PEM file of CAs to trust for --tls, besides the system's.") var caFile: String?
            @Option(help: "webhook: json (default), slack, teams; syslog: cef (default), rfc5424, json.") var format: String?
            @Option(name: .customLong("min-severity"), help: "Only alerts (and incidents) of this severity or above.") var minSeverity: String?
            @Option(help: "Only alerts on these platforms (comma-separated: linux, macos, ios, android).") var os: String?
            @Option(help: "Only alerts of these rule ids (comma-separated).") var rule: String?
            @Option(help: "The changes wanted (comma-separated): alert.created (default), alert.updated, incident.created, incident.updated.")
            var on: String?

            func run() throws {
                let transport: DeliveryTransport, target: String
                switch (webhook, syslog) {
                case (let url?, nil): (transport, target) = (.webhook, url)
                case (nil, let address?): (transport, target) = (.syslog, address)
                default: throw ValidationError("give exactly one of --webhook URL and --syslog HOST:PORT")
                }
                if tls && transport != .syslog { throw ValidationError("--tls is for --syslog; a webhook uses TLS when its URL is https://") }
                if caFile != nil && !tls { throw ValidationError("--ca-file needs --tls") }
                if let caFile, !FileManager.default.isReadableFile(atPath: caFile) { throw ValidationError("cannot read --ca-file \(caFile)") }
                var deliveryFormat: DeliveryFormat?
                if let format {
                    guard let parsed = DeliveryFormat(rawValue: format), transport.formats.contains(parsed) else {
                        throw ValidationError("--format for \(transport.rawValue) is one of \(transport.formats.map(\.rawValue).joined(separator: ", "))")
                    }
                    deliveryFormat = parsed
                }
                var parameters: [String: String] = [:]
                parameters["on"] = on
                parameters["min_severity"] = minSeverity
                parameters["os"] = os
                parameters["rule"] = rule
                let filter: OutboxFilter
                do {
                    filter = try OutboxFilter(parameters: parameters, defaultKinds: [.alertCreated]) { "--" + $0.replacingOccurrences(of: "_", with: "-") }
                } catch { throw ValidationError(error.description) }
                let spec = SubscriptionSpec(name: name, transport: transport, target: target, tls: tls,
                                            caFile: caFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }, format: deliveryFormat,
                                            minimumSeverity: filter.minimumSeverity, platforms: filter.platforms, rules: filter.rules, kinds: filter.kinds)
                let secret = transport == .webhook ? WebhookSignature.newSecret() : ""
                let row: SubscriptionRow
                do { row = try store.openDelivery(creating: true).createSubscription(spec, secret: secret, actor: currentActor) } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                if transport == .webhook {
                    print(secret)
                    writeStderr("subscription \(row.name): \(row.format.rawValue) to \(row.target). The line above is its signing secret, shown only now; receivers check X-Vigil-Signature with it (see the README).")
                } else {
                    print("subscription \(row.name): \(row.format.rawValue) to \(row.target)\(row.tls ? " over TLS" : "")")
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List subscriptions with their delivery state (never their secrets).")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions

            func run() throws {
                emit(try render(try store.openDelivery().subscriptions(), as: output.format))
            }
        }

        struct Status: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delivery state: backlog, tries of the current entry, last error, delivered count and dead letters.")
            @OptionGroup var store: StoreOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "One subscription (its dead letters too); all without it.") var name: String?

            func run() throws {
                let opened = try store.openDelivery()
                guard let name else {
                    emit(try render(try opened.subscriptions(), as: output.format))
                    return
                }
                guard let row = try opened.subscription(named: name) else { throw CLIError("there is no subscription '\(name)'; see `vigil notify list`") }
                emit(try render([row], as: output.format))
                let dead = try opened.deadLetters(of: name)
                guard !dead.isEmpty else { return }
                writeStderr("\(row.deadLetters) dead letters (`vigil notify redeliver \(name)` sends them again):")
                emit(try render(dead, as: output.format))
            }
        }

        struct Test: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Send a test message now; exit 1 when it fails. Audited.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The subscription.") var name: String

            func run() async throws {
                let worker = DeliveryWorker(store: try store.openDelivery(), role: "test", logger: Logger(label: "vigil"))
                let outcome: String
                do { outcome = try await worker.test(name, actor: currentActor) } catch {
                    await worker.shutdown()
                    throw CLIError(String(describing: error))
                }
                await worker.shutdown()
                print("\(name): \(outcome)")
                if outcome.hasPrefix("failed") { throw ExitCode(1) }
            }
        }

        struct Enable: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Turn a subscription back on: it goes on from where it stopped.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The subscription.") var name: String

            func run() throws {
                try changeSubscription(store, "subscription \(name) is on") { try $0.setSubscription(name, enabled: true, actor: currentActor) }
            }
        }

        struct Disable: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Pause a subscription: nothing is sent, and changes wait in the outbox until it is enabled.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The subscription.") var name: String

            func run() throws {
                try changeSubscription(store, "subscription \(name) is off; changes wait in the outbox") {
                    try $0.setSubscription(name, enabled: false, actor: currentActor)
                }
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a subscription and its dead letters.")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The subscription.") var name: String

            func run() throws {
                try changeSubscription(store, "subscription \(name) is removed") { try $0.removeSubscription(name, actor: currentActor) }
            }
        }

        struct Redeliver: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Send a subscription's dead letters again (delivery resumes from the oldest; receivers deduplicate on event_id).")
            @OptionGroup var store: StoreOptions
            @Argument(help: "The subscription.") var name: String

            func run() throws {
                var count = 0
                try changeSubscription(store, nil) { count = try $0.redeliverDeadLetters(of: name, actor: currentActor) }
                print("subscription \(name): \(count) dead letters queued again")
            }
        }
    }

    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the outbox to every enabled subscription until all have caught up (for set-ups without `vigil serve`).",
            discussion: "Exit 0 when every enabled subscription caught up; 1 when some are still behind at --timeout (the outbox keeps their entries).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var delivery: DeliveryOptions
        @Option(help: "Give up waiting for receivers after this long (30s, 10m).") var timeout = DurationArgument(seconds: 600)

        func run() async throws {
            var logger = Logger(label: "vigil")
            logger.logLevel = .warning
            let worker = DeliveryWorker(store: try store.openDelivery(), role: "deliver", policy: delivery.policy, logger: logger)
            let behind: [SubscriptionRow]
            do { behind = try await worker.drain(until: .now + timeout.duration) } catch {
                await worker.shutdown()
                throw CLIError("delivery failed: \(error)")
            }
            await worker.shutdown()
            for row in try store.openDelivery().subscriptions() where row.enabled {
                writeStderr("\(row.name): \(row.delivered) delivered in all, \(row.backlog) behind, \(row.deadLetters) dead letters\(row.lastError.map { "; last error: \($0)" } ?? "")")
            }
            if !behind.isEmpty {
                throw CLIError("still behind after \(timeout): \(behind.map(\.name).joined(separator: ", ")); their changes stay in the outbox for the next run")
            }
        }
    }
}

/// Runs one audited change to a subscription, a store error as the CLI's, then prints `done`.
private func changeSubscription(_ store: StoreOptions, _ done: String?, _ change: (any DeliveryStore) throws -> Void) throws {
    do { try change(try store.openDelivery()) } catch let error as StoreError { throw CLIError(error.description) }
    if let done { print(done) }
}

/// How delivery retries, for `vigil serve` and `vigil deliver`.
struct DeliveryOptions: ParsableArguments {
    @Option(name: .customLong("retry-delay"), help: "The wait after a failed try; it doubles with each further failure (with jitter).")
    var retryDelay = PreciseDurationArgument(milliseconds: 1000)
    @Option(name: .customLong("retry-max-delay"), help: "The longest wait between tries.")
    var retryMaxDelay = PreciseDurationArgument(milliseconds: 300_000)
    @Option(name: .customLong("webhook-attempts"), help: "Tries of one webhook change before it becomes a dead letter (syslog never gives up).")
    var webhookAttempts = 10

    func validate() throws {
        if webhookAttempts < 1 { throw ValidationError("--webhook-attempts must be at least 1") }
        if retryDelay.milliseconds < 1 || retryMaxDelay.milliseconds < retryDelay.milliseconds {
            throw ValidationError("--retry-delay must be positive and at most --retry-max-delay")
        }
    }

    var policy: RetryPolicy {
        RetryPolicy(firstDelay: retryDelay.duration, maxDelay: retryMaxDelay.duration, webhookAttempts: webhookAttempts)
    }
}

extension SubscriptionRow: Listable {
    static let tableColumns = ["name", "transport", "target", "format", "min_severity", "enabled", "backlog", "attempts", "delivered",
                               "dead_letters", "last_error"]
}

extension DeadLetterRow: Listable {}
