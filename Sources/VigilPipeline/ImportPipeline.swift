import VigilDetection
import VigilIngest
import VigilModel
import VigilStore

/// Totals for one import.
public struct ImportSummary: Sendable {
    public var recordsRead = 0
    public var outcome = BatchOutcome()
    public var elapsedSeconds = 0.0
    /// Rejected records with line numbers, at most `ImportPipeline.rejectedSampleLimit`.
    public var rejectedSample: [RejectedRecord] = []

    public var eventsPerSecond: Double { elapsedSeconds > 0 ? Double(recordsRead) / elapsedSeconds : 0 }
}

/// Progress of a running import, for a progress bar.
public struct ImportProgress: Sendable {
    public var recordsRead: Int
    public var bytesRead: Int64
    public var totalBytes: Int64?
    public var elapsedSeconds: Double
}

/// Wires framer → parser → gate → detector → writer for one import.
public final class ImportPipeline {
    public static let rejectedSampleLimit = 20

    private let store: Store
    private let writer: StoreWriter
    private var detector: Detector
    public var batchSize = 8_192

    public init(store: Store, ruleSet: RuleSet, dedupeWindow: Duration = .seconds(3600)) {
        self.store = store
        self.writer = StoreWriter(store: store, dedupeWindow: dedupeWindow)
        self.detector = Detector(ruleSet: ruleSet)
    }

    /// Imports `paths` (`-` is stdin) as `format` through `integration`.
    ///
    /// The gate is asked first: when it refuses, the refusal is audited and thrown, and nothing is stored.
    public func importFiles(
        _ paths: [String], format: SourceFormat, integration: String, actor: String,
        progress: ((ImportProgress) -> Void)? = nil
    ) throws -> ImportSummary {
        let state = try store.integration(named: integration).map {
            IngestGate.IntegrationState(name: $0.name, enabled: $0.enabled, formats: $0.formats)
        }
        do {
            try IngestGate.admit(state, named: integration, format: format.rawValue)
        } catch {
            if state != nil {
                try store.recordRefusedIngest(integration: integration, actor: actor, reason: error.description)
            }
            throw error
        }
        var summary = ImportSummary()
        let clock = ContinuousClock()
        let started = clock.now
        for path in paths {
            let source = try ByteSource(path: path)
            let importID = try writer.beginImport(source: path, format: format.rawValue, integration: integration)
            var fileSummary = ImportSummary()
            do {
                try run(source: source, format: format, integration: integration, importID: importID, summary: &fileSummary) { recordsRead in
                    progress?(ImportProgress(recordsRead: summary.recordsRead + recordsRead, bytesRead: source.bytesRead,
                                             totalBytes: source.totalBytes, elapsedSeconds: (clock.now - started).seconds))
                }
            } catch {
                try? writer.finishImport(id: importID, recordsRead: fileSummary.recordsRead, outcome: fileSummary.outcome, failed: true)
                throw error
            }
            try writer.finishImport(id: importID, recordsRead: fileSummary.recordsRead, outcome: fileSummary.outcome, failed: false)
            summary.recordsRead += fileSummary.recordsRead
            summary.outcome += fileSummary.outcome
            summary.rejectedSample += fileSummary.rejectedSample.prefix(Self.rejectedSampleLimit - summary.rejectedSample.count)
        }
        summary.elapsedSeconds = (clock.now - started).seconds
        return summary
    }

    private func run(
        source: ByteSource, format: SourceFormat, integration: String, importID: Int64,
        summary: inout ImportSummary, progress: (Int) -> Void
    ) throws {
        let framer = RecordFramer(source: source)
        var parser = format.makeParser(integration: integration)
        var framed: [RecordFramer.Item] = []
        var events: [Event] = []
        var items: [BatchItem] = []
        var rejected: [RejectedRecord] = []
        var more = true
        while more {
            framed.removeAll(keepingCapacity: true)
            more = try framer.next(into: &framed, limit: batchSize)
            events.removeAll(keepingCapacity: true)
            rejected.removeAll(keepingCapacity: true)
            for item in framed {
                switch item {
                case .record(let record):
                    if let rejection = parser.parse(record, into: &events) { rejected.append(rejection) }
                case .rejected(let rejection):
                    rejected.append(rejection)
                }
            }
            if !more { parser.finish(into: &events) }
            summary.recordsRead += framed.count
            items.removeAll(keepingCapacity: true)
            for event in events {
                var detections: [Detection] = []
                detector.detect(event, into: &detections)
                items.append(BatchItem(event: event, key: EventKey.compute(event), detections: detections))
            }
            summary.outcome += try writer.write(items, rejected: rejected, importID: importID)
            summary.rejectedSample += rejected.prefix(Self.rejectedSampleLimit - summary.rejectedSample.count)
            progress(summary.recordsRead)
        }
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
