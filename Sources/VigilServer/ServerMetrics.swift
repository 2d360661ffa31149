import Synchronization
import VigilDetection
import VigilPipeline
import VigilStore

/// Counters for `GET /metrics`, in Prometheus text format.
public final class ServerMetrics: Sendable {
    private struct Counters {
        var accepted: [String: Int] = [:]
        var rejected: [String: Int] = [:]
        var refused: [String: Int] = [:]
        var alertsRaised = 0
        var batchSeconds = 0.0
        var batchCount = 0
        var batchSecondsMax = 0.0
        var requests: [String: Int] = [:]
        var delivered: [String: Int] = [:]
        var deliveryFailures: [String: Int] = [:]
        var deadLetters: [String: Int] = [:]
    }

    /// Per-integration counters change together under one lock; the queue depth is a lone gauge.
    private let counters = Mutex(Counters())
    private let pendingBatches = Atomic<Int>(0)

    public init() {}

    /// Pushed batches waiting for the writer.
    var queueDepth: Int {
        get { pendingBatches.load(ordering: .relaxed) }
        set { pendingBatches.store(newValue, ordering: .relaxed) }
    }

    func refused(integration: String) {
        counters.withLock { $0.refused[integration, default: 0] += 1 }
    }

    func recordBatch(seconds: Double, batches: [PushedBatch], outcomes: [PushOutcome?]) {
        counters.withLock { counters in
            counters.batchSeconds += seconds
            counters.batchCount += 1
            counters.batchSecondsMax = max(counters.batchSecondsMax, seconds)
            for (batch, push) in zip(batches, outcomes) {
                guard let outcome = push?.outcome else { continue }
                counters.accepted[batch.integration, default: 0] += outcome.stored
                counters.rejected[batch.integration, default: 0] += outcome.rejected
                counters.alertsRaised += outcome.alertsRaised
            }
        }
    }

    /// Counts what one delivery pass did for a subscription.
    func recordDelivery(subscription: String, _ pass: DeliveryWorker.Pass) {
        counters.withLock { counters in
            counters.delivered[subscription, default: 0] += pass.sent
            counters.deliveryFailures[subscription, default: 0] += pass.failed
            counters.deadLetters[subscription, default: 0] += pass.deadLettered
        }
    }

    /// Counts a finished request by status code.
    public func request(status: Int) {
        counters.withLock { $0.requests[String(status), default: 0] += 1 }
    }

    /// The Prometheus exposition text.
    public func render() -> String {
        counters.withLock { counters in
            var lines: [String] = []
            func family(_ name: String, _ type: String, _ help: String, _ values: [(labels: String, value: String)]) {
                lines.append("# HELP \(name) \(help)")
                lines.append("# TYPE \(name) \(type)")
                for (labels, value) in values { lines.append("\(name)\(labels) \(value)") }
            }
            let byIntegration = { (values: [String: Int]) in values.sorted { $0.key < $1.key }.map { (labels: "{integration=\"\($0.key)\"}", value: String($0.value)) } }
            family("vigil_events_received_total", "counter", "Events stored from pushes, per integration.", byIntegration(counters.accepted))
            family("vigil_events_rejected_total", "counter", "Pushed records rejected as malformed, per integration.", byIntegration(counters.rejected))
            family("vigil_pushes_refused_total", "counter", "Pushes refused by the gate, per integration.", byIntegration(counters.refused))
            family("vigil_alerts_raised_total", "counter", "Alerts opened from pushed data.", [("", String(counters.alertsRaised))])
            family("vigil_writer_batch_seconds", "summary", "Time to commit one group of pushed batches.",
                   [("_sum", String(counters.batchSeconds)), ("_count", String(counters.batchCount))])
            family("vigil_writer_batch_seconds_max", "gauge", "Longest commit so far.", [("", String(counters.batchSecondsMax))])
            family("vigil_writer_queue_depth", "gauge", "Pushed batches waiting for the writer.", [("", String(queueDepth))])
            family("vigil_regex_stopped_evaluations_total", "counter", "Rule regular expressions stopped at their time budget (counted as no match).",
                   [("", String(RegexBudget.stoppedEvaluations))])
            let bySubscription = { (values: [String: Int]) in
                values.sorted { $0.key < $1.key }.map { (labels: "{subscription=\"\($0.key)\"}", value: String($0.value)) }
            }
            family("vigil_delivery_sent_total", "counter", "Alert changes delivered, per subscription.", bySubscription(counters.delivered))
            family("vigil_delivery_failures_total", "counter", "Failed delivery tries, per subscription.", bySubscription(counters.deliveryFailures))
            family("vigil_delivery_dead_letters_total", "counter", "Webhook changes given up after the last try, per subscription.",
                   bySubscription(counters.deadLetters))
            family("vigil_http_requests_total", "counter", "HTTP requests by status.",
                   counters.requests.sorted { $0.key < $1.key }.map { (labels: "{status=\"\($0.key)\"}", value: String($0.value)) })
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
