import Logging
import ServiceLifecycle

/// The single writer's group commit, as a service of the application: it commits pushed
/// batches as they queue up and, at shutdown (after the HTTP server stopped and in-flight
/// requests finished), commits what is left and saves the correlation windows.
struct GroupCommitService: Service {
    let service: IngestService
    let logger: Logger

    func run() async throws {
        await withGracefulShutdownHandler {
            await service.runGroupCommit()
        } onGracefulShutdown: {
            service.stopGroupCommit()
        }
        try await service.shutdown()
        logger.info("writer flushed and closed")
    }
}
