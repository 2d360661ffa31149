import Logging
import NIOPosix
import ServiceLifecycle
import VigilModel
import VigilPipeline
import VigilStore

/// Runs custom detections (`vigil detections add`) when they are due, as a service of
/// `vigil serve`: each query reads on a read-only hunting connection on a thread of this
/// service's own (a slow query never holds a request's thread), then the single writer raises
/// an alert per row. A failed run is recorded on the detection and retried at its next time.
struct CustomDetectionService: Service {
    let databasePath: String
    let ingest: IngestService
    /// How long a detection's query may run.
    let queryTimeout: Duration
    /// The longest the service sleeps, so detections added or enabled meanwhile start soon.
    let pollInterval: Duration
    let logger: Logger

    func run() async throws {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let nextRun = await runDue(on: thread)
                let wait = nextRun.map { Duration.microseconds(max(0, $0.microseconds - Timestamp.now().microseconds)) } ?? pollInterval
                try? await Task.sleep(for: min(wait, pollInterval))
            }
        }
        try await thread.shutdownGracefully()
    }

    /// Runs every due detection once; returns when the next one is due.
    private func runDue(on thread: NIOThreadPool) async -> Timestamp? {
        do {
            let due = try await thread.runIfActive { [databasePath] in try Store(readingAt: databasePath).dueCustomDetections(at: .now()) }
            for detection in due where !Task.isCancelled {
                let ranAt = Timestamp.now()
                do {
                    let (rows, truncated) = try await thread.runIfActive { [databasePath, queryTimeout] in
                        try CustomDetectionRun.read(detection, databasePath: databasePath, timeout: queryTimeout)
                    }
                    let outcome = try await ingest.raise(detection, rows: rows, truncated: truncated, ranAt: ranAt)
                    logger.info("custom detection \(detection.name): \(outcome)")
                } catch let error as StoreError {
                    logger.warning("custom detection \(detection.name) failed: \(error.message)")
                    try await ingest.recordFailedRun(detection, reason: error.message, ranAt: ranAt)
                }
            }
            return try await thread.runIfActive { [databasePath] in try Store(readingAt: databasePath).nextCustomDetectionRun() }
        } catch {
            logger.error("custom detections could not run: \(error)")
            return nil
        }
    }
}
