import Foundation
import VigilDetection
import VigilIngest
import VigilModel
import VigilStore

/// How the format of an input is chosen.
public enum FormatChoice: Sendable, Equatable {
    /// Detect it from a sample of each input.
    case auto
    case fixed(SourceFormat)
}

/// Totals for one import. They add up: `recordsRead` = records that yielded events +
/// `skipped` + `outcome.rejected`, and `eventsParsed` = `outcome.stored` + `outcome.duplicates`.
public struct ImportSummary: Sendable {
    public var recordsRead = 0
    /// Records that were read fine but carry no event (a scan summary line, say).
    public var skipped = 0
    /// Events the parsers produced (auditd yields a process_creation event per execve group too).
    public var eventsParsed = 0
    /// The format of each input, in order (detected ones included).
    public var formats: [SourceFormat] = []
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
    private let ruleSet: RuleSet
    private let correlator: CorrelationEngine
    private var correlationStateLoaded = false
    public var batchSize = 8_192
    /// Prepare batches on a second thread while the writer commits (true), or do all on one.
    public var parallel = true

    /// `maxFutureSkew`: how far after the wall clock an event may be dated and still enter a
    /// correlation window; later ones are stored, flagged and counted (`futureDated`).
    public init(store: Store, ruleSet: RuleSet, dedupeWindow: Duration = .seconds(3600), incidentPolicy: IncidentPolicy = IncidentPolicy(),
                maxFutureSkew: Duration = .seconds(86_400)) {
        self.store = store
        self.writer = StoreWriter(store: store, dedupeWindow: dedupeWindow, policy: incidentPolicy)
        self.ruleSet = ruleSet
        self.correlator = CorrelationEngine(ruleSet: ruleSet, maxFutureSkew: maxFutureSkew)
    }

    /// Imports `paths` (`-` is stdin) as `format` through `integration`.
    ///
    /// The gate is asked first: when it refuses, the refusal is audited and thrown, and nothing is stored.
    public func importFiles(
        _ paths: [String], format: FormatChoice, integration: String, actor: String, defaultHostname: String = "unknown",
        progress: ((ImportProgress) -> Void)? = nil
    ) throws -> ImportSummary {
        let state = try store.integration(named: integration).map {
            IngestGate.IntegrationState(name: $0.name, enabled: $0.enabled, formats: $0.formats)
        }
        // With `auto`, the gate checks each file's detected format; the integration must exist and be on first.
        do {
            if case .fixed(let format) = format {
                try IngestGate.admit(state, named: integration, format: format.rawValue)
            } else {
                try IngestGate.admit(state, named: integration, format: nil)
            }
        } catch {
            if state != nil {
                try store.recordRefusedIngest(integration: integration, actor: actor, reason: error.description)
            }
            throw error
        }
        // Correlation windows carry over from earlier imports.
        if !correlator.isEmpty, !correlationStateLoaded {
            try correlator.importState(store.correlationState())
            correlationStateLoaded = true
        }
        var summary = ImportSummary()
        let clock = ContinuousClock()
        let started = clock.now
        for path in paths {
            let source = try ByteSource(path: path)
            let framer = RecordFramer(source: source)
            let fileFormat: SourceFormat
            switch format {
            case .fixed(let fixed): fileFormat = fixed
            case .auto:
                let detected = try SourceFormat.detect(framer, path: path)
                do {
                    try IngestGate.admit(state, named: integration, format: detected.rawValue)
                } catch {
                    try store.recordRefusedIngest(integration: integration, actor: actor, reason: error.description)
                    throw error
                }
                fileFormat = detected
            }
            summary.formats.append(fileFormat)
            let importID = try writer.beginImport(source: path, format: fileFormat.rawValue, integration: integration)
            var fileSummary = ImportSummary()
            do {
                let context = ParserContext(integration: integration, defaultHostname: defaultHostname)
                try run(framer: framer, parser: fileFormat.makeParser(context: context), makeParser: { fileFormat.makeParser(context: context) },
                        importID: importID, summary: &fileSummary) { recordsRead in
                    progress?(ImportProgress(recordsRead: summary.recordsRead + recordsRead, bytesRead: source.bytesRead,
                                             totalBytes: source.totalBytes, elapsedSeconds: (clock.now - started).seconds))
                }
            } catch {
                try? writer.finishImport(id: importID, failed: true)
                throw error
            }
            try writer.finishImport(id: importID, failed: false)
            summary.recordsRead += fileSummary.recordsRead
            summary.eventsParsed += fileSummary.eventsParsed
            summary.skipped += fileSummary.skipped
            summary.outcome += fileSummary.outcome
            summary.rejectedSample += fileSummary.rejectedSample.prefix(Self.rejectedSampleLimit - summary.rejectedSample.count)
        }
        if !correlator.isEmpty { try store.saveCorrelationState(correlator.exportState()) }
        summary.elapsedSeconds = (clock.now - started).seconds
        return summary
    }

    private func run(
        framer: RecordFramer, parser: any EventParser, makeParser: () -> any EventParser, importID: Int64,
        summary: inout ImportSummary, progress: (Int) -> Void
    ) throws {
        let producer = BatchProducer(framer: framer, parser: parser, makeParser: makeParser, ruleSet: ruleSet,
                                     correlator: correlator, batchSize: batchSize)
        func write(_ batch: PreparedBatch) throws {
            summary.recordsRead += batch.recordsRead
            summary.eventsParsed += batch.eventsParsed
            summary.outcome += try writer.write(batch.items, rejected: batch.rejected, recordsRead: batch.recordsRead, importID: importID)
            summary.rejectedSample += batch.rejected.prefix(Self.rejectedSampleLimit - summary.rejectedSample.count)
            progress(summary.recordsRead)
        }
        if parallel {
            // The producer thread prepares batch n+1 while this thread commits batch n, and
            // yields the CPU to it: the writer is the stage that cannot be spread over cores.
            let owned = Handoff(producer)
            try overlapping(produce: { yield in
                yieldToConsumer()
                while let batch = try owned.value.next() { yield(batch) }
            }, consume: write)
        } else {
            while let batch = try producer.next() { try write(batch) }
        }
        summary.skipped = producer.skippedRecords
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    package var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
