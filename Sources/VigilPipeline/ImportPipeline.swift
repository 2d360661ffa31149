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
    /// Events parsed under the default host name: their records name no machine.
    public var defaultHostnameEvents = 0
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

/// `vigil import`: each input through the one batch pipeline (`BatchReader` → `BatchCommitter`).
public final class ImportPipeline {
    public static let rejectedSampleLimit = 20

    private let store: any ImportTarget
    private let committer: BatchCommitter
    private let ruleSet: RuleSet
    private var correlationStateLoaded = false
    public var batchSize = 8_192
    /// Prepare batches on a second thread while the writer commits (true), or do all on one.
    public var parallel = true
    /// Threads that parse and detect within a batch (`BatchReader`); 1 keeps them on the reading thread.
    public var workers = BatchReader.defaultWorkers

    /// `maxFutureSkew`: how far after the wall clock an event may be dated and still enter a
    /// correlation window; later ones are stored, flagged and counted (`futureDated`).
    public convenience init(store: Store, ruleSet: RuleSet, dedupeWindow: Duration = .seconds(3600), incidentPolicy: IncidentPolicy = IncidentPolicy(),
                            maxFutureSkew: Duration = .seconds(86_400)) {
        self.init(target: store, writer: StoreWriter(store: store), ruleSet: ruleSet, dedupeWindow: dedupeWindow,
                  incidentPolicy: incidentPolicy, maxFutureSkew: maxFutureSkew)
    }

    /// An import into any store: `target` for the gate and the saved correlation windows, `writer` for the batches.
    public init(target: any ImportTarget, writer: any BatchWriter, ruleSet: RuleSet, dedupeWindow: Duration = .seconds(3600),
                incidentPolicy: IncidentPolicy = IncidentPolicy(), maxFutureSkew: Duration = .seconds(86_400)) {
        self.store = target
        self.ruleSet = ruleSet
        committer = BatchCommitter(
            writer: writer,
            correlator: Correlator(ruleSet: ruleSet, dedupeWindow: dedupeWindow, policy: incidentPolicy, maxFutureSkew: maxFutureSkew))
    }

    /// Imports `paths` (`-` is stdin) as `format` through `integration`. A record whose time
    /// cannot be read is rejected unless `acceptIngestTime` (then it is stored at ingest time, flagged).
    ///
    /// The gate is asked first: when it refuses, the refusal is audited and thrown, and nothing is stored.
    public func importFiles(
        _ paths: [String], format: FormatChoice, integration: String, actor: String, defaultHostname: String = "unknown",
        acceptIngestTime: Bool = false, platform: OSPlatform? = nil, progress: ((ImportProgress) -> Void)? = nil
    ) throws -> ImportSummary {
        let state = try store.integration(named: integration)?.gateState
        // A refusal is audited against an integration that exists, then thrown.
        func admit(_ format: SourceFormat?) throws {
            do {
                try IngestGate.admit(state, named: integration, format: format?.rawValue)
            } catch {
                if state != nil { try store.recordRefusedIngest(integration: integration, actor: actor, reason: error.description) }
                throw error
            }
        }
        // With `auto`, the gate checks each file's detected format; the integration must exist and be on first.
        if case .fixed(let format) = format { try admit(format) } else { try admit(nil) }
        let correlator = committer.correlator
        // Correlation windows carry over from earlier imports.
        if !correlator.windows.isEmpty, !correlationStateLoaded {
            try correlator.windows.importState(store.correlationState())
            correlationStateLoaded = true
        }
        var summary = ImportSummary()
        let clock = ContinuousClock()
        let started = clock.now
        for path in paths {
            let fixed: SourceFormat? = if case .fixed(let chosen) = format { chosen } else { nil }
            let reader = try BatchReader(
                source: try ByteSource(path: path), format: fixed,
                context: ParserContext(integration: integration, defaultHostname: defaultHostname, acceptIngestTime: acceptIngestTime), ruleSet: ruleSet,
                admit: { if fixed == nil { try admit($0) } }, refuseEvent: { event in state.flatMap { IngestGate.refusal(of: event, from: $0) } },
                batchSize: batchSize, workers: workers, platform: platform)
            summary.formats.append(reader.format)
            let importID = try committer.beginImport(source: path, format: reader.format.rawValue, integration: integration)
            var fileSummary = ImportSummary()
            do {
                let totalBytes = reader.totalBytes
                try run(reader, importID: importID, defaultHostname: defaultHostname, summary: &fileSummary) { recordsRead, bytesRead in
                    progress?(ImportProgress(recordsRead: summary.recordsRead + recordsRead, bytesRead: bytesRead,
                                             totalBytes: totalBytes, elapsedSeconds: (clock.now - started).seconds))
                }
            } catch {
                try? committer.finishImport(id: importID, failed: true)
                throw error
            }
            try committer.finishImport(id: importID, failed: false)
            summary.recordsRead += fileSummary.recordsRead
            summary.eventsParsed += fileSummary.eventsParsed
            summary.skipped += fileSummary.skipped
            summary.outcome += fileSummary.outcome
            summary.defaultHostnameEvents += fileSummary.defaultHostnameEvents
            summary.rejectedSample += fileSummary.rejectedSample.prefix(Self.rejectedSampleLimit - summary.rejectedSample.count)
        }
        if !correlator.windows.isEmpty { try store.saveCorrelationState(correlator.windows.exportState()) }
        summary.elapsedSeconds = (clock.now - started).seconds
        return summary
    }

    /// `progress` gets the records and bytes read so far, from each batch (never from the
    /// reader, whose thread is still reading).
    private func run(_ reader: BatchReader, importID: Int64, defaultHostname: String, summary: inout ImportSummary,
                     progress: (Int, Int64) -> Void) throws {
        func write(_ batch: PreparedBatch) throws {
            summary.recordsRead += batch.recordsRead
            summary.eventsParsed += batch.eventsParsed
            // By index: a loop over the items would copy each one, retaining every string and array its event holds.
            for index in batch.items.indices where batch.items[index].event.machine.hostname == defaultHostname {
                summary.defaultHostnameEvents += 1
            }
            summary.outcome += try committer.write(batch.items, rejected: batch.rejected, recordsRead: batch.recordsRead, importID: importID)
            summary.rejectedSample += batch.rejected.prefix(Self.rejectedSampleLimit - summary.rejectedSample.count)
            progress(summary.recordsRead, batch.bytesRead)
        }
        // With `parallel`, the reader's thread prepares batch n+1 while this thread commits
        // batch n, and yields the CPU to it: the writer is the stage that cannot be spread over cores.
        try reader.forEachBatch(readingAhead: parallel, write)
        summary.skipped = reader.skippedRecords
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    package var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
