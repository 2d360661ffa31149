import Logging
import NIOPosix
import ServiceLifecycle
import VigilModel
import VigilPipeline
import VigilStore

/// Runs custom detections (`vigil detections add`) when they are due, as a service of
/// `vigil serve`: each query reads through the server's hunting SQL (a read-only SQLite
/// connection, or PostgreSQL's hunting role) on a thread of this service's own (a slow query
/// never holds a request's thread), then the single writer raises an alert per row. A failed
/// run is recorded on the detection and retried at its next time. Each run is claimed first
/// (`claimCustomDetectionRun`), so several nodes on one store run each due detection once.
struct CustomDetectionService: Service {
    /// The schedule's connection (due detections, claims), used on `thread` only.
    private let schedule: SerialDatabase<any CustomDetectionStore>
    private let thread: NIOThreadPool
    private let sql: HuntingSQL
    private let ingest: IngestService
    /// How long a detection's query may run.
    private let queryTimeout: Duration
    /// The longest the service sleeps, so detections added or enabled meanwhile start soon.
    private let pollInterval: Duration
    private let logger: Logger

    init(schedule: any CustomDetectionStore, sql: HuntingSQL, ingest: IngestService, queryTimeout: Duration, pollInterval: Duration,
         logger: Logger) {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        self.thread = thread
        self.schedule = SerialDatabase(schedule, pool: thread)
        self.sql = sql
        self.ingest = ingest
        self.queryTimeout = queryTimeout
        self.pollInterval = pollInterval
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let nextRun = await runDue()
                let wait = nextRun.map { Duration.microseconds(max(0, $0.microseconds - Timestamp.now().microseconds)) } ?? pollInterval
                try? await Task.sleep(for: min(wait, pollInterval))
            }
        }
        try await thread.shutdownGracefully()
    }

    /// Runs every due detection this server claims once; returns when the next one is due.
    private func runDue() async -> Timestamp? {
        do {
            let due = try await schedule.run { try $0.dueCustomDetections(at: .now()) }
            for detection in due where !Task.isCancelled {
                let ranAt = Timestamp.now()
                guard try await schedule.run({ try $0.claimCustomDetectionRun(detection, next: detection.nextRun(after: ranAt)) }) else {
                    continue  // another node runs it
                }
                do {
                    let result = try await sql.run(detection.query, timeout: queryTimeout, rowCap: CustomDetectionRun.rowCap, on: thread)
                    let (rows, truncated) = try CustomDetectionRun.rows(of: result)
                    let outcome = try await ingest.raise(detection, rows: rows, truncated: truncated, ranAt: ranAt)
                    logger.info("custom detection \(detection.name): \(outcome)")
                } catch let error as StoreError {
                    logger.warning("custom detection \(detection.name) failed: \(error.message)")
                    try await ingest.recordFailedRun(detection, reason: error.message, ranAt: ranAt)
                }
            }
            return try await schedule.run { try $0.nextCustomDetectionRun() }
        } catch {
            logger.error("custom detections could not run: \(error)")
            return nil
        }
    }
}
