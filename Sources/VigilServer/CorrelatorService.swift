import Logging
import NIOPosix
import ServiceLifecycle
import VigilPipeline

/// Runs the correlator role on an ingest node of a shared store: every node runs one, one
/// holds the role at a time, and another takes it over within `rolePollInterval` of the
/// holder's connection ending. Its steps run on a thread of their own, never on the
/// cooperative pool.
struct CorrelatorService: Service {
    private let node: UncheckedNode
    let logger: Logger
    /// How often a node without the role tries to take it.
    var rolePollInterval: Duration = .seconds(1)
    /// How long the holder waits when the queue is empty.
    var idleInterval: Duration = .milliseconds(200)

    init(node: CorrelatorNode, logger: Logger) {
        self.node = UncheckedNode(node: node)
        self.logger = logger
    }

    func run() async throws {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        var held = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let pause: Duration
            do {
                let applied = try await thread.runIfActive { try node.node.step() }
                if applied != nil, !held { logger.info("this node holds the correlator role") }
                held = applied != nil
                pause = applied == nil ? rolePollInterval : (applied == 0 ? idleInterval : .zero)
            } catch {
                logger.error("a correlator step failed and was rolled back; retrying: \(error)")
                held = false
                pause = rolePollInterval
            }
            if pause > .zero { try? await Task.sleep(for: pause) }
        }
        try await thread.shutdownGracefully()
    }
}

/// The node, handed to the step thread. Unchecked: only that one thread ever uses it (one
/// step at a time, each awaited before the next).
private struct UncheckedNode: @unchecked Sendable {
    let node: CorrelatorNode
}
